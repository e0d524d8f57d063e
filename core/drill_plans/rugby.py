"""Rugby's skill words and plans."""

from __future__ import annotations

from core.drill_plans.plan import Plan, SportPlans

# "tackle bags" and the like are equipment, not a tackling focus.
_TACKLE = r"tackl(?:e|es|ing)(?!\s+(?:bags?|shields?|suits?|pads?))"

RUGBY = SportPlans(
    sports=("rugby",),
    focus_words=(
        (r"rucks?|rucking|breakdowns?|clear[- ]?outs?|clean[- ]?outs?|jackal\w*", "ruck"),
        (r"line[- ]?outs?|lifters?|lifting pods?", "lineout"),
        (r"off[- ]?loads?|off[- ]?loading|passing out of (?:the )?contact", "offloading"),
        (rf"{_TACKLE}|line speed|defen\w*", "defending"),
        (r"spin pass\w*|pop pass\w*|miss pass\w*|pass\w*|catch and pass", "passing"),
        (r"evasion|side[- ]?steps?|swerves?|fends?", "evasion"),
    ),
    plans={
        "ruck": Plan(
            "Ruck",
            "Winning quick ruck ball: going to ground well, clearing out and presenting.",
            "A {side} x 15 m grid; tackle bags or shields; groups of four (ball carrier, two "
            "clearers, a scrum-half); {squad} in groups.",
            (
                "The ball carrier goes to ground on a bag and places the ball back at arm's "
                "length.",
                "Two clearers arrive and drive over the ball, beyond the ball carrier.",
                "The scrum-half passes away from the ruck to a runner.",
                "Add a defender with a shield who contests; then play it live at walking pace.",
            ),
            (
                "Ball carrier: fight for the extra metre, then place the ball long and still.",
                "Clearers: low body, chest up, drive through the target on your feet.",
                "Arrive quickly: the first two seconds decide the ruck.",
                "Safety: bind on a teammate, no hands on the ground, never drop the head.",
            ),
            (
                "Add a jackaler who must be cleared.",
                "Start the ball carrier from further away so support must work harder.",
                "Make it continuous: ruck, pass, carry, ruck again.",
            ),
        ),
        "lineout": Plan(
            "Lineout",
            "A reliable lineout: accurate throw, timed lift and clean ball to the scrum-half.",
            "A touchline with marks at 5 m and 15 m; pods of a jumper and two lifters; a "
            "thrower with balls; a scrum-half behind; {squad} rotate through the roles.",
            (
                "The thrower throws to a target on the posts or a partner, ten in a row.",
                "The lifters lift the jumper without the ball; hold, then lower safely.",
                "Throw and jump together on the call; the jumper catches or taps down.",
                "Add movement: the pod moves to the front or the back before the lift.",
            ),
            (
                "Thrower: same routine every time, feet square, spin the ball.",
                "Lifters: grip above the knee and at the shorts, lift together, lower together.",
                "Jumper: core tight, reach early, two hands on the ball.",
                "Calls are short and clear; everyone knows the target before the throw.",
            ),
            (
                "Add opposition jumpers.",
                "Throw to the back of the line.",
                "Finish each lineout with a maul or a pass to the backs.",
            ),
        ),
        "offloading": Plan(
            "Offload",
            "Keeping the ball alive in contact with the offload.",
            "A {side} x 15 m grid with tackle shields in the middle; groups of three; {squad} "
            "in groups.",
            (
                "Walk: the ball carrier runs into the shield, turns the hips and pops the ball "
                "to a support runner.",
                "Jog: the support player times the run from behind and calls for the ball.",
                "Full speed against a shield holder who moves.",
                "Finish with a touch game where a pass after contact scores double.",
            ),
            (
                "Carry the ball in two hands and free the arms in contact.",
                "Get the shoulder and hips through the contact first.",
                "Support runners: arrive late and straight, call early.",
                "Offload only if the pass will stick; otherwise go to ground and present.",
            ),
            (
                "The shield holder tries to wrap the ball.",
                "Two support runners: choose the better option.",
                "Play it in a full contact game with referees on the offloads.",
            ),
        ),
        "defending": Plan(
            "Tackling",
            "Safe, effective tackling: approach, contact and finishing on the feet.",
            "A {side} x 10 m channel with mats or soft ground; tackle bags and shields; "
            "pairs of similar size; {squad} in pairs.",
            (
                "Tackle technique on knees onto a bag: cheek to cheek, ring of steel.",
                "From a crouch: drive into the bag with short steps.",
                "Walking, then jogging ball carriers with shields.",
                "Finish with a 1v1 channel at controlled speed; the tackler gets back up first.",
            ),
            (
                "Eyes open, head up and to the side: cheek to cheek, never head in front.",
                "Close the gap with short steps and a low body.",
                "Shoulder into the thigh, arms wrap, squeeze and drive.",
                "Land on top and get back on the feet to compete for the ball.",
            ),
            (
                "Add a second defender for a double tackle.",
                "Attackers may step at walking pace.",
                "Line speed: the defensive line moves up together from 10 m.",
            ),
        ),
        "passing": Plan(
            "Passing",
            "Accurate passes in front of the receiver, at pace and under pressure.",
            "A {side} x 20 m grid; lines of four players; one ball per line; {squad} in lines.",
            (
                "Stationary passes along the line, both ways, hands up as a target.",
                "Jogging passes down the grid and back.",
                "Spin passes and miss passes at walking pace, then at speed.",
                "Finish with 4v2 in the grid.",
            ),
            (
                "Hands up and ready before the ball arrives.",
                "Pass across the body with the arms and wrists, following through to the target.",
                "Pass in front of the receiver so they run onto it.",
                "Run straight; do not drift across the field.",
            ),
            (
                "Add defenders.",
                "Shorten the grid so decisions come faster.",
                "Use only the weaker side.",
            ),
        ),
        "evasion": Plan(
            "Evasion",
            "Beating a defender with footwork: side-steps, swerves and fends.",
            "A {side} x 10 m channel with cones; attackers with balls at one end, defenders at "
            "the other; {squad} in pairs.",
            (
                "Side-steps through a line of cones: plant, push, accelerate.",
                "Swerve around a cone at speed, ball in two hands.",
                "Touch 1v1 in the channel: beat the defender with footwork.",
                "Finish with 2v1s: beat or pass.",
            ),
            (
                "Run at the defender's inside shoulder, then step away.",
                "A short step to set up; a big push off the outside foot.",
                "Keep the ball in two hands until the step is done.",
                "Accelerate out of the step.",
            ),
            (
                "Narrow the channel.",
                "The defender may use a shield.",
                "The attacker has three seconds.",
            ),
        ),
    },
)
