"""Volleyball's skill words and plans."""

from __future__ import annotations

from core.drill_plans.plan import Plan, SportPlans

VOLLEYBALL = SportPlans(
    sports=("volleyball",),
    focus_words=(
        (
            r"serve[- ]receiv\w*|serve[- ]reception|receiving serves?|reception|"
            r"forearm pass\w*|platform pass\w*|bump(?:s|ing)?|pass\w*",
            "serve receive",
        ),
        (r"jump[- ]serv\w*|float serv\w*|serv(?:e|es|ing)", "serving"),
        (
            r"spik(?:e|es|ing)|spikers?|attack approach\w*|approach jumps?|outside hitters?",
            "spiking",
        ),
        (r"digs?|digging|floor defen[cs]e|pancakes?|defen\w*", "digging"),
        (r"block(?:s|ing|ers?)?", "blocking"),
        (r"setters?|setting(?: drills?| practice| skills)|hand setting|volley pass\w*", "setting"),
    ),
    plans={
        "serve receive": Plan(
            "Serve Receive",
            "Passing the serve to the setter's target with a steady platform.",
            "One court; servers on one side, three passers in the back court on the other, a "
            "target (setter or hoop) at the net; {squad} rotate through the roles.",
            (
                "Partners toss to each other: forearm passes to a target, ten in a row.",
                "Servers serve easy balls; passers pass to the target and call the ball early.",
                "Servers serve game-speed serves at the seams between passers.",
                "Score it: 3 points for a perfect pass, 2 for a playable one, 1 for a free ball.",
            ),
            (
                "Ready position before the server tosses: feet wide, knees bent.",
                "Move the feet to the ball, then present a still platform.",
                "Angle the platform to the target; do not swing the arms.",
                "Call 'mine' early; seams belong to the passer on the inside.",
            ),
            (
                "Serve from a box so passers must move first.",
                "Only perfect passes count towards the target.",
                "Add an attack: the setter sets and a hitter finishes the rally.",
            ),
        ),
        "serving": Plan(
            "Serving",
            "A consistent serve to a chosen zone, underarm, float or jump as the level allows.",
            "Servers along the back line of both sides; six targets (hoops or mats) in the "
            "zones of the other side; a few balls per pair.",
            (
                "Toss practice: the toss lands in front of the hitting shoulder.",
                "Serve from halfway to the targets, then from the back line.",
                "Call the zone before each serve.",
                "Finish with a serving game: points for hitting the called zone.",
            ),
            (
                "Same toss every time; a bad toss is caught, not served.",
                "Firm wrist and contact the middle of the ball for a float.",
                "Step with the opposite foot and transfer the weight forward.",
                "Aim deep: a serve to the back zones is hardest to pass.",
            ),
            (
                "Smaller targets.",
                "Serve after a sprint, as in a tight game.",
                "Add passers who score if they pass it perfectly.",
            ),
        ),
        "spiking": Plan(
            "Spiking",
            "The attack approach, arm swing and placing the spike.",
            "One net with a setter or coach tossing at the net; hitters in a line at the "
            "attack line with balls; {squad} rotate hitting and shagging.",
            (
                "Approach footwork without the ball: left-right-left (right-handers).",
                "Toss to self and spike over the net from a box.",
                "Full approach and spike from a set, aiming cross-court.",
                "Hit line and cross on the coach's call; finish with a hitter versus a blocker.",
            ),
            (
                "Start the approach slowly and finish fast.",
                "Arms swing back on the last two steps, then both up.",
                "Contact the ball at the highest point, in front of the hitting shoulder.",
                "Snap the wrist for topspin.",
            ),
            (
                "Add a single, then a double block.",
                "Hit from a set out of a pass instead of a toss.",
                "Score only on spikes that land in a target zone.",
            ),
        ),
        "digging": Plan(
            "Digging",
            "Reading the attack and digging hard-driven balls up to the middle of the court.",
            "A coach on a box at the net; three diggers in the back court; a target in the "
            "middle of the court; {squad} rotate in threes.",
            (
                "Partners hit controlled balls at each other; dig back up, ten in a row.",
                "The coach hits from the box at the diggers; dig up high to the target.",
                "Diggers read the hitter's arm and move before the contact.",
                "Finish with a dig-to-kill rally: the dig is set and attacked.",
            ),
            (
                "Low and on the balls of the feet before the hit.",
                "Read the shoulder and the arm swing.",
                "Dig high and to the middle: give the setter time.",
                "Absorb the ball; let the platform give.",
            ),
            (
                "Hit harder and closer to the diggers.",
                "Add tips and roll shots so diggers must read and move.",
                "Add a blocker to change what the diggers cover.",
            ),
        ),
        "blocking": Plan(
            "Blocking",
            "Footwork along the net and a strong, well-timed block.",
            "One net; blockers on one side, a coach or hitter on a box on the other; "
            "{squad} rotate between blocking and hitting.",
            (
                "Block jumps at the net, hands over the net, ten each.",
                "Footwork: step-close and crossover steps to the antennae, then jump.",
                "Block a hitter on a box who hits line or cross.",
                "Finish with double blocks against live sets.",
            ),
            (
                "Hands high and wide, thumbs up, fingers spread.",
                "Penetrate: reach over the net and press the hands to the court.",
                "Time the jump after the hitter jumps.",
                "Eyes: ball, setter, hitter.",
            ),
            (
                "Add a second blocker and close the gap.",
                "The setter mixes the sets so blockers must read.",
                "Block live from a full rally.",
            ),
        ),
        "setting": Plan(
            "Setting",
            "Accurate overhead sets to the attackers.",
            "Pairs with one ball each, then a setter at the net with targets at the outside and "
            "middle; {squad} in pairs.",
            (
                "Partners set to each other from close range, then from further apart.",
                "Set to self, then to the partner.",
                "The setter receives passes from the coach and sets to the outside target.",
                "Set to the outside, the middle and the back row on the coach's call.",
            ),
            (
                "Hands in a window above the forehead before the ball arrives.",
                "Contact with the finger pads; extend arms and legs together.",
                "Face the target; square to it.",
                "High sets give the hitters time.",
            ),
            (
                "Back sets.",
                "Jump sets.",
                "Passes come from poor positions so the setter has to move.",
            ),
        ),
    },
)
