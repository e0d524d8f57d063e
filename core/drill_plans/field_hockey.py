"""Field hockey's skill words and plans ("hockey" reads both these and ice hockey's)."""

from __future__ import annotations

from core.drill_plans.plan import Plan, SportPlans

FIELD_HOCKEY = SportPlans(
    sports=("field hockey", "hockey"),
    focus_words=(
        (
            r"penalty corners?|short corners?|drag[- ]?flick\w*|corner (?:routines?|injections?)",
            "penalty corners",
        ),
        (r"push[- ]pass\w*|slap[- ]?(?:pass\w*|hits?)|pass\w*", "passing"),
        (r"indian dribbl\w*|dribbl\w*|3[- ]?d skills?|eliminations?|ball carrying", "dribbling"),
        (r"reverse[- ]stick\w*|reverse (?:hits?|shots?)|backhands?|tomahawks?", "reverse stick"),
        (r"jab tackl\w*|block tackl\w*|tackl\w*|channell?ing|defen\w*", "defending"),
        (
            r"deflections?|tip[- ]ins?|circle entr\w*|shoot\w*|shots?|finishing|scoring",
            "shooting",
        ),
        (r"aerials?|overheads?|lifted pass\w*|scoops?", "aerials"),
    ),
    plans={
        "penalty corners": Plan(
            "Penalty Corner",
            "Attacking penalty corners: the injection, the stop and the drag flick or hit.",
            "One circle with a goal and a goalkeeper; an injector on the back line 10 m from the "
            "post, a stopper and a flicker at the top of the circle; balls at the injector; "
            "{squad} rotate through the roles.",
            (
                "Injections to the stopper: flat and fast along the ground.",
                "The stopper traps the ball just outside the circle edge and pulls it in.",
                "The flicker drag-flicks or hits at goal; start without defenders.",
                "Add runners from the goal line, then one set play with a deflection.",
            ),
            (
                "Injector: low stance, push the ball flat to the stopper's stick.",
                "Stopper: stick flat and still, ball stopped dead on the top of the circle.",
                "Flicker: a long drag, body low, release at the front foot.",
                "Safety: shots at goal stay below the backboard when runners defend.",
            ),
            (
                "Add a first runner, then the full defending unit.",
                "Add a variation: a slip pass to the side for a deflection.",
                "Score only with shots low into the corners.",
            ),
        ),
        "passing": Plan(
            "Passing",
            "Accurate push passes and slap hits, receiving on the forehand and reverse.",
            "A {side} x {side} m square with a cone at each corner; {groups}.",
            (
                "Push passes around the square; follow the pass to the next cone.",
                "Receive on the forehand, then the reverse, and pass on.",
                "Slap hits across the square to the far corner.",
                "Finish with a 4v2 possession game: eight passes score a point.",
            ),
            (
                "Push pass: wide grip, ball near the front foot, no backswing.",
                "Receive with a soft stick, ball slightly in front of the body.",
                "Eyes up before the pass.",
                "Move to open angles after every pass.",
            ),
            (
                "One-touch passing.",
                "Add a defender in the middle.",
                "Pass on the move through gates.",
            ),
        ),
        "dribbling": Plan(
            "Dribbling",
            "Close control with the Indian dribble and eliminating a defender at speed.",
            "A {side} x {side} m area with cones scattered as gates; one ball each.",
            (
                "Indian dribble on the spot: forehand to reverse, ball in front.",
                "Dribble through the gates keeping the ball close.",
                "Eliminate a cone: drag to the reverse, then accelerate away.",
                "Finish with 1v1 duels to an end line.",
            ),
            (
                "Left hand turns the stick; the right hand is loose.",
                "Ball in front and to the right, not under the feet.",
                "Head up between touches.",
                "Change speed after the elimination.",
            ),
            (
                "Add a defender in each gate.",
                "Lift the ball over a stick on the ground (3D skill).",
                "Shrink the area.",
            ),
        ),
        "reverse stick": Plan(
            "Reverse Stick",
            "Receiving and hitting on the reverse side with control and power.",
            "Pairs 10 m apart with a goal for shooting; one ball per pair; {squad} in pairs.",
            (
                "Reverse-stick receiving from a partner's pass.",
                "Reverse-stick passes along the ground to the partner.",
                "Reverse hits at goal from the left of the circle.",
                "Finish with a game where reverse-stick goals count double.",
            ),
            (
                "Lower the body and rotate the shoulders, not only the stick.",
                "Stick flat on the ground to receive.",
                "Strike through the ball with the edge low.",
                "Keep the ball in front of the left foot.",
            ),
            (
                "Receive on the move.",
                "Add a goalkeeper and a defender.",
                "Shoot first time off a pass.",
            ),
        ),
        "defending": Plan(
            "Tackling and Channelling",
            "Defending one against one: channelling the attacker and timing the jab and block "
            "tackle.",
            "Mark {side} x 10 m channels with cones; pair the players, attacker and defender.",
            (
                "Defender shadows the attacker down the channel, stick low.",
                "Channel the attacker onto the reverse side, towards the sideline.",
                "Jab tackle to unsettle, then block tackle when the ball leaves the stick.",
                "Finish with 2v2 in the channels.",
            ),
            (
                "Low stance, stick on the ground on the forehand.",
                "Stay goal-side and patient; force the attacker to the reverse.",
                "Jab with the left hand only, then recover to the block.",
                "Tackle the ball, never the stick or the player.",
            ),
            (
                "The attacker starts with speed.",
                "Make it 2v1.",
                "The defender counter-attacks to a gate after winning the ball.",
            ),
        ),
        "shooting": Plan(
            "Circle Shooting",
            "Scoring from the circle: quick shots, deflections and rebounds.",
            "One circle with a goal and a goalkeeper; feeders with balls at the top of the "
            "circle and on the baseline; {squad} queue in two lines.",
            (
                "Receive from the feeder and shoot within two touches.",
                "Deflections: a push from the side, deflected at the post.",
                "Reverse-stick shots from the left.",
                "Finish with 3v2 attacks into the circle.",
            ),
            (
                "Get a shot away quickly; the goalkeeper needs time.",
                "Stick down at the post for deflections.",
                "Shoot low and to the corners.",
                "Follow every shot for the rebound.",
            ),
            (
                "Add a defender.",
                "Only first-time shots.",
                "Feed from behind the goal line.",
            ),
        ),
        "aerials": Plan(
            "Aerial",
            "Throwing and receiving the aerial ball safely to switch play over defenders.",
            "A large open area; partners 20-30 m apart, then further; one ball per pair; "
            "{squad} in pairs.",
            (
                "Scoop the ball to a partner from close range.",
                "Aerial throws over 20 m, stick flat under the ball.",
                "Receive: track the ball, stick up to catch, then trap on the ground.",
                "Finish with a game where an aerial into the attacking zone scores.",
            ),
            (
                "Ball ahead of the left foot, stick face open under it.",
                "Follow through up and along the line of the throw.",
                "Safety: the first defender stays 5 m from the receiver until the ball lands.",
                "Receiver calls and gets under the ball early.",
            ),
            (
                "Longer aerials.",
                "Receive on the move.",
                "Add a defender who must respect the 5 m rule.",
            ),
        ),
    },
)
