"""Basketball's skill words and plans."""

from __future__ import annotations

from core.drill_plans.plan import Plan, SportPlans

BASKETBALL = SportPlans(
    sports=("basketball",),
    focus_words=(
        (r"lay[- ]?ups?|finishing at the rim|mikan(?: drill)?|euro[- ]?steps?", "layups"),
        (r"give[- ](?:and|n|&)[- ]go|pass[- ]and[- ]cut|basket cuts?", "give-and-go"),
        (
            r"pick[- ](?:and|n|&)[- ](?:roll|pop)s?|screen[- ]and[- ]roll|"
            r"(?:on[- ])?ball[- ]screens?",
            "pick and roll",
        ),
        (r"rebound\w*|box(?:ing)?[- ]?outs?|putbacks?|crashing the (?:boards|glass)", "rebounding"),
        (r"free[- ]throws?|foul shots?|foul shooting", "free throws"),
        (
            r"jump[- ]shots?|three[- ]pointers?|3[- ]pointers?|catch[- ]and[- ]shoot|"
            r"form shooting|shoot\w*|shots?",
            "shooting",
        ),
        (r"ball[- ]handling|dribbl\w*|crossovers?|handles", "dribbling"),
        (r"chest pass\w*|bounce pass\w*|pass\w*", "passing"),
        (r"man[- ]to[- ]man|close[- ]?outs?|help[- ]side|defen\w*", "defending"),
        (r"fast[- ]breaks?|outlet pass\w*|transition", "transition"),
    ),
    plans={
        "layups": Plan(
            "Layup",
            "Finishing at the basket at speed with either hand, off the correct foot.",
            "Two lines at the elbows of each basket, balls in the right-hand line; {squad} "
            "share the baskets, about six per basket.",
            (
                "Right-hand line dribbles in and lays the ball up off the left foot; the "
                "left-hand line rebounds and passes out.",
                "Players switch lines after each turn.",
                "Switch to the left side: left-hand layups off the right foot.",
                "Finish with a 2-minute team challenge: how many layups in a row without a miss.",
            ),
            (
                "Outside hand and opposite foot: right hand, left foot.",
                "Drive the knee up and jump high, not long.",
                "Aim for the top corner of the square on the backboard.",
                "Protect the ball with the body on the last dribble.",
            ),
            (
                "Add a chasing defender who starts two steps behind.",
                "Finish with a reverse layup or a Euro step.",
                "Make it a race: each team counts made layups in one minute.",
            ),
        ),
        "give-and-go": Plan(
            "Give-and-Go",
            "Passing and cutting hard to the basket for the return pass.",
            "Half court: a guard line at the top of the key and a wing line on each side, balls "
            "with the guards; {squad} rotate through the lines.",
            (
                "The guard passes to the wing, V-cuts and cuts hard to the basket.",
                "The wing returns the pass; the guard finishes with a layup.",
                "Players rotate: guard to wing, wing to the back of the guard line.",
                "Add a passive defender on the guard, then play it live 2v1 and 2v2.",
            ),
            (
                "Sell the cut: take the defender away with a step, then explode to the rim.",
                "Show a target hand as you cut.",
                "Passer: lead the cutter, bounce pass past the defender.",
                "Finish strong with the outside hand.",
            ),
            (
                "Make the defender fully active.",
                "The cutter must finish within two dribbles.",
                "Run it from the other side of the floor.",
            ),
        ),
        "pick and roll": Plan(
            "Pick and Roll",
            "Running and reading the ball screen: using it, rolling and making the right pass.",
            "Half court with two baskets if possible; groups of four: ball handler, screener and "
            "two defenders; {squad} rotate through the groups.",
            (
                "Walk-through: the screener sets the screen on the ball handler's defender; the "
                "handler comes off it shoulder to shoulder.",
                "The screener rolls to the basket; the handler hits the roll or pulls up.",
                "Defenders show and recover, then switch, so attackers learn both reads.",
                "Play 2v2 live; score only off the pick and roll.",
            ),
            (
                "Set the screen still, wide and legal; wait for the defender to be hit.",
                "Handler: wait for the screen, then go shoulder to shoulder, no gap.",
                "Screener: roll once the handler passes you; hands ready.",
                "Read the screener's defender: if they step up, pass; if they drop back, shoot.",
            ),
            (
                "Add a weak-side shooter to make it 3v3.",
                "The screener pops to the three-point line instead of rolling.",
                "Limit the handler to two dribbles after the screen.",
            ),
        ),
        "rebounding": Plan(
            "Rebounding",
            "Boxing out and securing the rebound on both ends.",
            "Baskets with a coach or shooter at each; players in pairs, one attacker and one "
            "defender; {squad} spread across the baskets.",
            (
                "The coach shoots; the defender finds the attacker, makes contact and boxes out.",
                "The attacker tries to get round and win the ball; the defender holds the box-out "
                "for two seconds, then goes to the ball.",
                "The winner of the rebound scores a point; swap roles after each shot.",
                "Finish with 3v3 rebounding battles: defence needs three stops in a row.",
            ),
            (
                "See your player, hit first, then find the ball.",
                "Wide base, low hips, elbows out, backside into the opponent.",
                "Grab the ball with two hands at its highest point and chin it.",
                "Expect every shot to miss.",
            ),
            (
                "Start the defender further away so the closeout is longer.",
                "The attacker who wins the rebound may score a putback.",
                "Add an outlet pass after the rebound.",
            ),
        ),
        "free throws": Plan(
            "Free Throw",
            "A repeatable free throw routine that holds up when players are tired.",
            "Two or three players per basket, one ball per basket; {squad} share the baskets.",
            (
                "Form shooting close to the rim: one hand, elbow under the ball.",
                "Each player builds a routine (dribbles, breath, look at the rim) and uses it "
                "for every shot.",
                "Shoot in pairs of two free throws; rotate after each pair.",
                "Pressure round: after a sprint, shoot two; the team runs if fewer than seven in "
                "ten go in.",
            ),
            (
                "Same routine every time.",
                "Feet set, toes to the rim, knees bent.",
                "Elbow in, follow through and hold the finish.",
                "Aim just over the front of the rim.",
            ),
            (
                "Shoot after every sprint in a conditioning block.",
                "Make it a competition between baskets.",
                "Add noise and distractions from teammates.",
            ),
        ),
        "shooting": Plan(
            "Shooting",
            "Catch-and-shoot technique and shooting off the dribble from game spots.",
            "Shooters in pairs at each basket with one ball, a rebounder-passer under the rim; "
            "five spots marked around the key.",
            (
                "Form shooting close to the basket, one hand, five makes each.",
                "Catch and shoot from the five spots; the partner rebounds and passes.",
                "Shoot off one dribble left and right.",
                "Finish with a timed competition: points for makes in one minute.",
            ),
            (
                "Be ready to shoot before the catch: hands up, knees bent.",
                "Eyes on the target early; elbow under the ball.",
                "Same balance and follow-through on every shot.",
                "Shoot in rhythm; a good shot is a shot you can make.",
            ),
            (
                "Add a defender who closes out.",
                "Move the spots beyond the three-point line.",
                "Shoot after a sprint to simulate fatigue.",
            ),
        ),
        "dribbling": Plan(
            "Ball Handling",
            "Keeping the ball under control with either hand at speed and under pressure.",
            "One ball per player; cones in lines across the court, about 3 m apart; {squad} "
            "in lines on the baseline.",
            (
                "Stationary dribbling: high, low, left, right, between the legs.",
                "Zig-zag through the cones with a crossover at each.",
                "Speed dribble up the court, change of pace at half court.",
                "Finish with a dribble knockout: keep your ball, tap others out of the circle.",
            ),
            (
                "Eyes up; feel the ball with the finger pads.",
                "Keep the dribble below the waist when a defender is near.",
                "Protect the ball with the off arm and body.",
                "Use the weaker hand as much as the strong one.",
            ),
            (
                "Two balls at once.",
                "Add a defender who tries to tip the ball.",
                "Combine moves: crossover into a between-the-legs.",
            ),
        ),
        "passing": Plan(
            "Passing",
            "Crisp chest, bounce and overhead passes to a moving teammate.",
            "Partners 4-5 m apart across the court, one ball per pair; {squad} in pairs.",
            (
                "Chest passes, then bounce passes, stepping into each pass.",
                "Passes on the move: partners run the length of the court passing without "
                "dribbling.",
                "Three-player weave up and back.",
                "Finish with 3v2 keep-away: five passes score a point.",
            ),
            (
                "Step towards the target and snap the wrists, thumbs down.",
                "Pass to the target hand, not the body.",
                "Bounce pass lands two thirds of the way to the receiver.",
                "Receiver: show a target and meet the pass.",
            ),
            (
                "Add a defender between the partners.",
                "Only passes with the weaker hand.",
                "Shorten the time allowed to pass after catching.",
            ),
        ),
        "defending": Plan(
            "Man-to-Man Defence",
            "On-ball and help-side defence: stance, closeouts and staying in front.",
            "Half court; players in pairs, an attacker and a defender; {squad} rotate through.",
            (
                "Stance and slides: defensive slides baseline to baseline, no crossing feet.",
                "Closeouts: the defender sprints from the paint to a shooter and chops the feet.",
                "1v1 from the wing: the defender keeps the attacker out of the middle.",
                "Finish with 3v3 shell: help side and recover on every pass.",
            ),
            (
                "Low stance, weight on the balls of the feet, hands active.",
                "Closeout: sprint, then short steps with a hand high.",
                "Ball, you, man: see both at once when help-side.",
                "Talk: call 'ball', 'help' and 'screen'.",
            ),
            (
                "Defenders may not use their hands: feet only.",
                "Add a screen for the defender to fight through.",
                "Play 4v4 shell with skip passes.",
            ),
        ),
        "transition": Plan(
            "Fast Break",
            "Running the fast break after a rebound or a steal: outlet, fill the lanes, finish.",
            "Full court; three lines on the baseline; a coach under the far basket; {squad} "
            "rotate through the lines.",
            (
                "The coach shoots; the middle player rebounds and outlets to a wing.",
                "Three players fill the lanes and pass the ball up without dribbling.",
                "Finish with a layup; the three sprint back to defend the next group.",
                "Play 3v2 continuous: the two defenders break the other way with a third player.",
            ),
            (
                "Outlet fast: the first pass beats any dribble.",
                "Wide lanes: wings stay wide until the free-throw line extended.",
                "The middle stops at the free-throw line and makes the decision.",
                "Sprint back on every change of possession.",
            ),
            (
                "The break must end within 8 seconds.",
                "Play 4v3 with a trailer.",
                "Start from a made basket with an inbound pass.",
            ),
        ),
    },
)
