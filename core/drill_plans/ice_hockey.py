"""Ice hockey's skill words and plans ("hockey" reads both these and field hockey's)."""

from __future__ import annotations

from core.drill_plans.plan import Plan, SportPlans

ICE_HOCKEY = SportPlans(
    sports=("ice hockey", "hockey"),
    focus_words=(
        (r"break[- ]?outs?|breaking out|zone exits?", "breakout"),
        (r"fore[- ]?check\w*", "forechecking"),
        (r"power[- ]?plays?|man[- ]advantage", "power play"),
        (r"penalty[- ]kill\w*|short[- ]handed", "penalty kill"),
        (r"one[- ]timers?|one[- ]time (?:shots?|passes?)", "one-timers"),
        (r"power skating|skating|edge work|crossovers?|strides?|tight turns?", "skating"),
        (r"puck[- ]handling|stick[- ]?handling|puck control|dekes?|dangles?", "dribbling"),
        (r"wrist shots?|snap shots?|slap[- ]?shots?|backhand shots?|shoot\w*|shots?", "shooting"),
        (r"saucer pass\w*|tape[- ]to[- ]tape|pass\w*", "passing"),
        (r"gap control|angling|back[- ]?check\w*|defen\w*", "defending"),
    ),
    plans={
        "breakout": Plan(
            "Breakout",
            "Moving the puck out of the defensive zone under forecheck pressure.",
            "Full ice; a coach with pucks at the far blue line; two defencemen and three "
            "forwards per group in their breakout positions; {squad} in groups of five.",
            (
                "The coach dumps the puck in; a defenceman retrieves it with a shoulder check.",
                "The partner defenceman supports behind the net or in the opposite corner.",
                "Wingers post up on the boards at the hash marks; the centre swings low.",
                "The puck goes D to winger to centre in stride; the group attacks 5v0 the "
                "other way. Add one, then two forecheckers.",
            ),
            (
                "Shoulder check before you reach the puck.",
                "Talk: the partner tells the puck carrier 'reverse', 'wheel' or 'up'.",
                "Wingers: back to the boards, stick on the ice, a strong catch.",
                "Move the puck quickly; make the first pass tape to tape.",
            ),
            (
                "Add two forecheckers who pressure the defencemen.",
                "Limit the breakout to 5 seconds.",
                "Vary the dump-in: rimmed around the boards, soft into the corner.",
            ),
        ),
        "forechecking": Plan(
            "Forecheck",
            "A coordinated forecheck that pressures the defence and wins the puck back.",
            "One offensive zone; a coach dumps pucks in from the neutral zone; three forwards "
            "forecheck two defencemen and a centre; {squad} rotate in groups.",
            (
                "Walk-through of the 2-1-2: F1 pressures the puck, F2 takes the next option, "
                "F3 stays high.",
                "The coach dumps the puck in; F1 angles the defenceman to one side.",
                "F2 reads the pass and pins the receiver on the boards.",
                "Play it live: the forecheckers score if they win the puck and shoot within "
                "5 seconds; the defence scores by carrying past the blue line.",
            ),
            (
                "F1: take away the middle and angle to the boards, stick on the puck.",
                "Finish the check; stay on the defensive side of the puck.",
                "F3 reads the play and never gets beaten up ice.",
                "Change lines on short shifts: a forecheck is all-out.",
            ),
            (
                "Add a third defender.",
                "Switch to a 1-2-2 forecheck.",
                "Start from a neutral-zone dump-in after a line change.",
            ),
        ),
        "power play": Plan(
            "Power Play",
            "Moving the puck 5v4 to create a shot from a high-danger area.",
            "One offensive zone; five attackers in the umbrella or 1-3-1 set-up against four "
            "penalty killers; pucks at the blue line; {squad} rotate units.",
            (
                "Walk the set-up 5v0: players in position, puck moves around the umbrella.",
                "5v0 at speed: two passes, then a shot or a one-timer.",
                "Add passive penalty killers in a box.",
                "Play 5v4 live for 45-second shifts; the penalty kill clears to score.",
            ),
            (
                "Move the puck faster than the box can shift.",
                "Stick on the ice, ready for the one-timer.",
                "Get a screen in front of the goalie on every point shot.",
                "Recover loose pucks: second effort wins power plays.",
            ),
            (
                "Start with a zone entry from the neutral zone.",
                "The penalty kill plays fully active.",
                "Only goals from a one-timer count.",
            ),
        ),
        "penalty kill": Plan(
            "Penalty Kill",
            "Killing a penalty 4v5: the box, pressure on the puck and clearing it.",
            "One defensive zone; four penalty killers in a box against five attackers; pucks "
            "at the blue line; {squad} rotate units.",
            (
                "Walk-through of the box: positions and who pressures which pass.",
                "The attackers move the puck slowly; the box shifts and closes lanes.",
                "Live 4v5: the penalty kill pressures on a bobble or a bad pass.",
                "Winning the puck and clearing it over the red line scores a point.",
            ),
            (
                "Stick in the passing lane; make passes go the long way round.",
                "Pressure on triggers: a bobble, a back-turned player, a pass along the boards.",
                "Block shots safely: square, sticks down, never turn your back.",
                "Clear it out high off the glass when under pressure.",
            ),
            (
                "Attackers may one-time every pass.",
                "Start from a faceoff in the defensive zone.",
                "Play 3v5 for short spells.",
            ),
        ),
        "one-timers": Plan(
            "One-Timer",
            "Shooting the puck straight off the pass, without stopping it.",
            "One zone; passers in the corners or at the half-wall with pucks; shooters in the "
            "slot and at the dots; a goalie in net; {squad} rotate passer and shooter.",
            (
                "Stationary one-timers from the dots off passes from the half-wall.",
                "The shooter skates into the slot and one-times the pass in stride.",
                "Cross-ice passes for one-timers from the off-side.",
                "Finish with 2v1s where the goal must come from a one-timer.",
            ),
            (
                "Open up to the passer; stick back early and on the ice.",
                "Eyes on the puck until the stick meets it.",
                "Weight moves onto the front foot through the shot.",
                "Passer: flat pass to the shooter's strong side.",
            ),
            (
                "Add a defender who tries to block the lane.",
                "Pass from behind the net.",
                "Shoot from the off-wing only.",
            ),
        ),
        "skating": Plan(
            "Skating",
            "Power, balance and edges: stride, crossovers and tight turns.",
            "Full ice with cones at the circles and along the boards; {squad} in lines on the "
            "goal line.",
            (
                "Stride drills: full extension and recovery, down the length and back.",
                "Crossovers around the faceoff circles, both directions.",
                "Tight turns around cones and stops and starts on the whistle.",
                "Finish with relay races using the same skills.",
            ),
            (
                "Knees bent, chest up, full extension of the push.",
                "Crossovers: push with the under leg too.",
                "Use the edges: lean into the turn, weight on the balls of the feet.",
                "Quality first, then speed.",
            ),
            (
                "Add a puck.",
                "Skate backwards through the same pattern.",
                "Race a partner.",
            ),
        ),
        "dribbling": Plan(
            "Puck Handling",
            "Controlling the puck at speed with the head up, and beating a defender.",
            "Full ice with cones in lines and pucks for every player; {squad} in lines.",
            (
                "Stationary stickhandling: wide, narrow, forehand to backhand, eyes up.",
                "Weave through the cones keeping the puck on the blade.",
                "Toe drags and dekes around a stick or glove on the ice.",
                "Finish with 1v1 to the net: beat the defender with a deke, then shoot.",
            ),
            (
                "Soft hands: cup the puck, top hand does the work.",
                "Keep the puck in front of the body, in the 'window'.",
                "Head up: feel the puck, see the ice.",
                "Change of pace beats defenders more than fancy moves.",
            ),
            (
                "Add a defender with only a stick.",
                "Tighter cones.",
                "Combine with a pass and a shot.",
            ),
        ),
        "shooting": Plan(
            "Shooting",
            "Quick, accurate wrist and snap shots from the slot and off the rush.",
            "One zone with a goalie in net; pucks at the blue line and in the corners; "
            "{squad} in two lines at the blue line.",
            (
                "Wrist shots from the slot at targets in the corners of the net.",
                "Snap shots off a pass from the corner.",
                "Shoot in stride from the rush, then drive the net for the rebound.",
                "Finish with a shooting competition: goals from five spots.",
            ),
            (
                "Release quickly: shoot before the goalie is set.",
                "Transfer the weight and follow through to the target.",
                "Pick a spot: high glove side, low blocker side.",
                "Always drive the net for rebounds.",
            ),
            (
                "Add a screen in front of the goalie.",
                "Shoot off a pass from behind the net.",
                "Add a backchecker.",
            ),
        ),
        "passing": Plan(
            "Passing",
            "Tape-to-tape passes, on the forehand and the backhand, at speed.",
            "Full ice; partners 5-8 m apart along the boards, one puck per pair; {squad} in pairs.",
            (
                "Stationary forehand and backhand passes to the partner's tape.",
                "Pass while skating up the ice side by side.",
                "Saucer passes over a stick on the ice.",
                "Finish with a 3v2 rush: two passes before a shot.",
            ),
            (
                "Sweep the puck, don't slap it; follow through to the target.",
                "Pass to where the receiver is going.",
                "Receiver: give a target with the stick and cushion the puck.",
                "Head up before you pass.",
            ),
            (
                "One-touch passing.",
                "Add a defender in the lane.",
                "Longer, stretch passes from the defensive zone.",
            ),
        ),
        "defending": Plan(
            "Defending",
            "Gap control and angling a puck carrier to the boards.",
            "Half ice; attackers with pucks at the far blue line, defenders at the near blue "
            "line; {squad} in pairs.",
            (
                "Backwards skating and pivots without the puck.",
                "The attacker skates in; the defender keeps a stick-length gap.",
                "The defender angles the attacker to the boards and takes away the net.",
                "Play 1v1 live; then 2v1 and 2v2.",
            ),
            (
                "Gap: a stick length, closing as the attacker slows.",
                "Stick on the puck, body on the body.",
                "Inside-out: keep the attacker outside the dots.",
                "Never turn your back on the puck carrier.",
            ),
            (
                "The attacker starts with speed.",
                "Add a second attacker for a 2v1.",
                "Start the defender on the goal line so the gap must be closed.",
            ),
        ),
    },
)
