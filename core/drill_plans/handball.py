"""Handball's skill words and plans."""

from __future__ import annotations

from core.drill_plans.plan import Plan, SportPlans

HANDBALL = SportPlans(
    sports=("handball",),
    focus_words=(
        (r"jump[- ]shots?|9[- ]?m shots?|shoot\w*|shots?|finishing|scoring", "shooting"),
        (r"fast[- ]breaks?|counter[- ]?attack\w*|transition", "transition"),
        (
            r"pivot play|pivot players?|line players?|circle runners?|(?:to|with) the pivot",
            "pivot play",
        ),
        (r"wing(?: play| shots?| players?)?|wingers?", "wing play"),
        (r"6[- ]0|5[- ]1|3[- ]2[- ]1|zone defen\w*|defen\w*", "defending"),
        (r"feints?|fakes?|breakthroughs?|1 ?v ?1|1 ?on ?1|one[- ]on[- ]one", "feints"),
        (r"pass\w*|catch\w*", "passing"),
    ),
    plans={
        "shooting": Plan(
            "Jump Shot",
            "The jump shot from the back court: take-off, arm action and placement.",
            "One goal with a goalkeeper; lines of players 10-12 m out with balls; a passer in "
            "the middle; {squad} in two lines.",
            (
                "Three-step run-up and jump shot without a goalkeeper, aiming at targets.",
                "Receive from the passer in the run-up and shoot in one movement.",
                "Shoot over a passive blocker with a raised arm.",
                "Finish with a shooting competition against the goalkeeper.",
            ),
            (
                "Take off from the foot opposite the throwing arm.",
                "High elbow, ball back early, throw over the top.",
                "Look at the goalkeeper, not the ball; pick the corner late.",
                "Land on the take-off foot, balanced.",
            ),
            (
                "Add an active blocker.",
                "Shoot from a pass after a crossing movement.",
                "Only shots into the low corners count.",
            ),
        ),
        "transition": Plan(
            "Fast Break",
            "Scoring on the first and second wave after winning the ball.",
            "Full court; goalkeepers in both goals; two teams of three or four; {squad} "
            "rotate in waves.",
            (
                "The goalkeeper saves or catches and throws long to a wing who has sprinted.",
                "First wave: a one-pass attack and a shot in under 5 seconds.",
                "Second wave: three players arrive and attack against two recovering defenders.",
                "Continuous waves: the team that conceded breaks the other way.",
            ),
            (
                "Wings sprint as soon as the ball is won; look over the shoulder.",
                "Goalkeeper: throw early, in front of the runner.",
                "Run wide and deep; the ball moves faster than the player.",
                "Everyone sprints back on the turnover.",
            ),
            (
                "Add a defender who chases the first wave.",
                "Attacks must end within 8 seconds.",
                "Start from a goal scored against you (fast throw-off).",
            ),
        ),
        "pivot play": Plan(
            "Pivot Play",
            "Playing the pivot: blocks, fighting for position and finishing at the line.",
            "Half court with a goal and a goalkeeper; a pivot on the 6 m line, back-court "
            "players at 9 m, defenders between them; {squad} rotate positions.",
            (
                "The pivot sets a block on a defender; a back-court player breaks through.",
                "The back-court player draws the defender and passes to the pivot rolling off "
                "the block.",
                "The pivot catches in the crowd and finishes with a fall shot.",
                "Play 3v3 in one half; goals from the pivot count double.",
            ),
            (
                "Pivot: wide stance, back to the defender, hands ready.",
                "Roll off the block into the gap the pass will use.",
                "Passer: bounce or lob the ball into space, not at the pivot.",
                "Finish fast: one catch, one step, shoot.",
            ),
            (
                "Add a second pivot.",
                "Defenders play 6-0 so the pivot must find gaps.",
                "The pivot may only score after a block.",
            ),
        ),
        "wing play": Plan(
            "Wing Play",
            "Shooting from the wing: narrow angles, jumping into the court and finishing.",
            "One goal with a goalkeeper; wings in lines on both corners; a passer in the back "
            "court; {squad} in two lines.",
            (
                "Wings run the line and receive at full speed from the passer.",
                "Jump into the court to widen the angle before shooting.",
                "Vary the finish: near post, far post, lob, spin shot.",
                "Add a wing defender, then play out the attack 3v3 on one side.",
            ),
            (
                "Start wide and low: the line, not the middle.",
                "Jump as far into the court as possible.",
                "Read the goalkeeper's position before choosing the shot.",
                "Land inside the court and recover for defence.",
            ),
            (
                "Add an active defender who forces the wing wider.",
                "Shoot only with the weaker finishes (spin or lob).",
                "Start with a fast-break pass from the goalkeeper.",
            ),
        ),
        "defending": Plan(
            "6-0 Defence",
            "Defending as a 6-0 line: stepping out, blocking shots and helping.",
            "Half court with a goal and a goalkeeper; six defenders on the 6 m line, attackers "
            "at 9 m; {squad} rotate attack and defence.",
            (
                "Walk-through: each defender steps out to their attacker and drops back.",
                "Attackers pass slowly around the 9 m; defenders step out and cover.",
                "Block shots with both arms high; the goalkeeper covers the other side.",
                "Play live attacks; the defence scores by winning the ball.",
            ),
            (
                "Step out to the throwing arm, then drop back in line.",
                "Contact with the body, never holding.",
                "Talk: call who takes the pivot and the crossing players.",
                "Blocks and goalkeeper agree: one side each.",
            ),
            (
                "Switch to a 5-1 with one advanced defender.",
                "Add a pivot to the attack.",
                "Attackers get a fast restart after each goal.",
            ),
        ),
        "feints": Plan(
            "Feints and 1v1",
            "Beating a defender with a body feint or a shot fake and breaking through.",
            "Channels 6 m wide marked with cones in front of a goal; attackers and defenders "
            "in pairs; {squad} in pairs.",
            (
                "Body feint to the left and right against a passive defender.",
                "Shot fake, then break through the other side.",
                "1v1 against an active defender; a breakthrough ends in a shot.",
                "Finish with 2v2: feint or pass.",
            ),
            (
                "Sell the feint: the shoulders and the ball go one way.",
                "Step close to the defender before the feint.",
                "Explode out of the feint with the first step.",
                "Keep the three-step rule in mind.",
            ),
            (
                "The defender is fully active.",
                "Narrow the channel.",
                "The attacker has two dribbles at most.",
            ),
        ),
        "passing": Plan(
            "Passing and Catching",
            "Fast, accurate passes on the move and safe catches.",
            "A {side} x {side} m area; {groups}.",
            (
                "Partners pass while running the length of the court.",
                "Pass around a circle: shoulder passes, then wrist passes.",
                "Passing in the run-up: catch, three steps, pass.",
                "Finish with a 4v2 possession game: ten passes score.",
            ),
            (
                "Catch with both hands, thumbs and index fingers forming a triangle.",
                "Pass in front of the runner at chest height.",
                "Move to receive; call for the ball.",
                "Quick hands: catch and pass in one movement.",
            ),
            (
                "Only one step before passing.",
                "Add defenders.",
                "Use the weaker hand.",
            ),
        ),
    },
)
