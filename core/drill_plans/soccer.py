"""Soccer's skill words and plans (its passing, shooting and the like are the general plans)."""

from __future__ import annotations

from core.drill_plans.plan import Plan, SportPlans

SOCCER = SportPlans(
    sports=("soccer", "football", "futsal"),
    focus_words=(
        (r"rondos?|piggy in the middle|monkey in the middle", "rondo"),
        (r"counter[- ]?press\w*|gegenpress\w*|high press\w*|press(?:ing|es)?", "pressing"),
        (r"(?<!-)cross(?:es|ing)?|wide play|wing play|delivery from wide", "crossing"),
        (r"finishing|in front of goal|goal ?scoring|strikers?", "finishing"),
        (r"1 ?v ?1 defen\w*|defending 1 ?v ?1|1 ?on ?1 defen\w*", "defending"),
        (
            r"1 ?v ?1|1 ?vs\.? ?1|1 ?on ?1|one[- ]v[- ]one|one[- ]on[- ]one|take[- ]ons?|"
            r"beating (?:a|the|your) (?:defender|player|man)",
            "1v1",
        ),
        (
            r"build[- ]up play|building (?:out )?from the back|play(?:ing)? out from the back|"
            r"playing out",
            "build-up",
        ),
    ),
    plans={
        "rondo": Plan(
            "Rondo",
            "Keeping the ball in a tight circle under pressure: angles, first touch, quick passes.",
            "Mark a 10 x 10 m square for each group; {groups}; one or two defenders in bibs "
            "start in the middle of each square.",
            (
                "Outside players keep the ball around the square, two touches each; the "
                "defenders in the middle try to win it.",
                "A defender who wins the ball, or forces it out, swaps with the player who "
                "lost it.",
                "Ten passes in a row earn the outside players a point.",
                "Move to one touch once the group keeps the ball comfortably.",
            ),
            (
                "Open body shape: receive on the back foot, facing the next pass.",
                "Move along the line to offer an angle every time the ball moves.",
                "Play the pass that splits the defenders when it is on.",
                "Defenders press together and cut out the split pass.",
            ),
            (
                "One touch only.",
                "Add a second defender (4v2 or 5v2).",
                "Shrink the square to make it harder; enlarge it to make it easier.",
            ),
        ),
        "pressing": Plan(
            "Pressing",
            "Winning the ball back high up the pitch as a unit: triggers, angles and cover.",
            "Mark a {side} x {side} m area with an end zone at each end; {squad} play as two "
            "teams in bibs.",
            (
                "The building team starts with the ball in its own end zone and tries to dribble "
                "or pass into the far one.",
                "The pressing team waits for a trigger (a backward pass, a heavy touch, a pass "
                "towards the touchline), then presses together.",
                "Winning the ball in the building team's half and scoring within 8 seconds "
                "counts double.",
                "Play 3-minute rounds and swap roles after each.",
            ),
            (
                "Nearest player presses fast and curves the run to cut off one side.",
                "Second and third players close the nearest passing lanes.",
                "Press together or not at all; call the trigger out loud.",
                "If the press is beaten, recover goal-side at once.",
            ),
            (
                "Give the building team a neutral player (an overload).",
                "Shorten the window to win it back and score to 6 seconds.",
                "Play on a half-pitch with a goal and a goalkeeper.",
            ),
        ),
        "crossing": Plan(
            "Crossing",
            "Delivering crosses from wide areas and attacking them in the box.",
            "Set up a goal with a goalkeeper; mark a 10 m wide channel on each flank with cones; "
            "wide players queue at the top of each channel, attackers in the middle.",
            (
                "A central player passes wide; the wide player runs down the channel and crosses.",
                "Two attackers time their runs: one to the near post, one to the far post.",
                "Vary the cross: driven low, pulled back, lofted to the far post.",
                "Add a defender in the box, then finish with a game where goals from crosses "
                "count double.",
            ),
            (
                "Look up before crossing; aim for the space, not the player.",
                "Cross early when the defence is running back towards its goal.",
                "Attackers arrive late and at pace, and attack the ball.",
                "Strike through the ball with the laces for a driven cross.",
            ),
            (
                "Add one, then two defenders in the box.",
                "Limit the wide player to two touches.",
                "Add a defender in the channel so the cross comes under pressure.",
            ),
        ),
        "finishing": Plan(
            "Finishing",
            "Scoring the chances in and around the box: composure, placement, first-time finishes.",
            "One goal with a goalkeeper; a server with plenty of balls at the edge of the box; "
            "{squad} queue in two lines 20 m out.",
            (
                "Pass to the server, spin off and finish the lay-off first time.",
                "The server plays balls into the box from different angles; finish with one or "
                "two touches.",
                "Add a recovering defender who starts 3 m behind the attacker.",
                "Finish with 2v1s to goal: score within 6 seconds.",
            ),
            (
                "Pick the spot before the ball arrives; placement before power.",
                "Low and across the goalkeeper is hardest to save.",
                "Stay calm: a side-foot finish is enough from close range.",
                "Follow every shot in for the rebound.",
            ),
            (
                "One-touch finishes only.",
                "Finish with the weaker foot.",
                "Add a defender from the start (1v1 with the goalkeeper).",
            ),
        ),
        "1v1": Plan(
            "1v1",
            "Beating a defender one against one: running with the ball, feints, changes of pace.",
            "Mark {side} x 10 m channels with cones and a small gate at each end; pair the "
            "players, one attacker and one defender per channel.",
            (
                "The defender passes to the attacker and steps out to press.",
                "The attacker tries to dribble through the defender's gate; the defender tries "
                "to win the ball and counter through the other gate.",
                "Pairs rest while the next pair goes; swap roles after every turn.",
                "Finish with 1v1 against a goalkeeper: beat the defender, then shoot.",
            ),
            (
                "Run at the defender with speed; slow down just before the move.",
                "Sell the feint with the shoulders, then explode the other way.",
                "Keep the body between the defender and the ball once past.",
                "Be brave: losing the ball is part of learning.",
            ),
            (
                "Give the attacker 5 seconds to score.",
                "Narrow the channel to make it harder; widen it to make it easier.",
                "Make it 2v1 so the attacker can choose to pass.",
            ),
        ),
        "build-up": Plan(
            "Build-Up Play",
            "Playing out from the back under pressure: spacing, angles, breaking the first line.",
            "A half-pitch with a goal and a goalkeeper; two mini goals on the halfway line; "
            "{squad} split into builders (about two thirds) and pressers.",
            (
                "The goalkeeper starts every attack; the defenders split wide to receive.",
                "Builders score by passing or dribbling through a mini goal.",
                "Pressers try to win the ball and score in the big goal.",
                "Rotate players through the positions every few minutes.",
            ),
            (
                "Width and depth: centre-backs split, full-backs push high and wide.",
                "Receive on the half-turn to see forward.",
                "Find the free player; switch play when one side is crowded.",
                "If the press is too strong, the goalkeeper can play long.",
            ),
            (
                "Add one more presser.",
                "Limit the builders to two touches.",
                "A goal scored after a pass through midfield counts double.",
            ),
        ),
    },
)
