"""The plans for a focus in any sport, and the plan for a drill with no focus at all.

Their words suit field sports best; a sport with its own table (see SportPlans) overrides them.
"""

from __future__ import annotations

from core.drill_plans.plan import FocusWords, Plan

GENERAL_FOCUS_WORDS: FocusWords = (
    (r"first touch|receiving|ball control", "first touch"),
    (r"ball handling|dribbl\w*", "dribbling"),
    (r"pass\w*", "passing"),
    (r"shoot\w*|shots?|finishing|scoring", "shooting"),
    (r"defen\w*|tackling|marking|1v1 defending", "defending"),
    (r"possession|keep[- ]?away", "possession"),
    (r"counter[- ]?attack\w*|transitions?", "transition"),
    (r"goalkeep\w*|keepers?|goalies?", "goalkeeping"),
    (r"conditioning|fitness|endurance|stamina", "conditioning"),
    (r"agility|footwork|speed|quickness|coordination", "agility"),
    (r"warm[- ]?ups?", "warm-up"),
    (r"communication|teamwork", "teamwork"),
)

GENERAL_PLANS: dict[str, Plan] = {
    "passing": Plan(
        "Passing",
        "Accurate, well-weighted passing and movement after the pass.",
        "Mark a {side} x {side} m square with a cone at each corner; {groups}.",
        (
            "Players pass around the square and follow their pass to the next cone.",
            "Switch direction on the coach's call; passes on the ground, two touches.",
            "Add a second ball so players must scan before receiving.",
            "Finish with a small game where a goal counts only after five passes.",
        ),
        (
            "Open the body to receive on the back foot.",
            "Pass with the inside of the foot, ankle locked.",
            "Weight the pass so a teammate can play it first time.",
            "Move after every pass; call for the ball.",
        ),
        (
            "Limit to one touch.",
            "Add a defender in the middle (rondo).",
            "Widen the square to demand longer passes; narrow it to make it easier.",
        ),
    ),
    "shooting": Plan(
        "Shooting",
        "Shooting technique and composure in front of goal.",
        "Set up a goal with a keeper if available; lay a line of cones 16-20 m out; {groups}.",
        (
            "Players take a touch out of their feet and shoot at the target.",
            "Add a lay-off from a server before the shot.",
            "Shoot after a turn or a dribble around a cone.",
            "Finish with a small-sided game with bonus points for shots on target.",
        ),
        (
            "Head over the ball, strike through the middle.",
            "Pick a corner before shooting; accuracy before power.",
            "Follow every shot in for the rebound.",
        ),
        (
            "Add a chasing defender.",
            "Limit the time from receiving to shooting.",
            "Shoot with the weaker foot.",
        ),
    ),
    "dribbling": Plan(
        "Dribbling",
        "Close control, changes of direction and beating an opponent.",
        "Mark a {side} x {side} m area with cones scattered inside as gates; one ball each.",
        (
            "Players dribble freely, keeping the ball close.",
            "Dribble through as many gates as possible in one minute.",
            "On the whistle, change direction with a turn or a feint.",
            "Finish with 1v1 duels: dribble over the opponent's end line to score.",
        ),
        (
            "Small touches, ball within a step.",
            "Eyes up between touches to see space.",
            "Change of pace after a change of direction.",
        ),
        (
            "Use the weaker foot only.",
            "Add defenders who try to win the ball.",
            "Shrink the area to make it harder.",
        ),
    ),
    "defending": Plan(
        "Defending",
        "Defending one against one: approach, body shape and winning the ball.",
        "Mark {side} x 10 m channels with cones; pair the players, attacker against defender.",
        (
            "Defender passes to the attacker and closes them down quickly.",
            "Attacker tries to dribble over the end line; defender tries to win or block.",
            "Swap roles after every repetition.",
            "Finish with 2v2 in the channels, defending together.",
        ),
        (
            "Close down fast, slow down on arrival.",
            "Side-on stance, knees bent, show the attacker one way.",
            "Be patient: tackle when the ball is away from the attacker's feet.",
        ),
        (
            "Widen the channel to give the attacker more room.",
            "Add a second attacker (2v1).",
            "Give the defender a counter-attack goal when they win the ball.",
        ),
    ),
    "possession": Plan(
        "Possession",
        "Keeping the ball as a team under pressure.",
        "Mark a {side} x {side} m area; split the players into two teams with bibs.",
        (
            "One team keeps the ball while the other presses.",
            "Count consecutive passes; ten in a row scores a point.",
            "Swap roles every two minutes.",
            "Add neutral players on the edges to help the team in possession.",
        ),
        (
            "Make the pitch big when you have the ball.",
            "Move to create passing angles.",
            "Scan before receiving.",
        ),
        (
            "Limit touches.",
            "Take the neutral players away.",
            "Make the area smaller.",
        ),
    ),
    "first touch": Plan(
        "First Touch",
        "Receiving the ball cleanly and setting up the next action.",
        "Pair the players about 10 m apart, one ball per pair, with a cone gate beside each.",
        (
            "Partner serves; the receiver controls with one touch and passes back.",
            "Receive through the cone gate to one side, then the other.",
            "Vary the service: along the ground, bouncing, in the air.",
            "Finish with a rondo where every receive must go forward.",
        ),
        (
            "Cushion the ball; relax the receiving surface.",
            "Take the first touch away from pressure.",
            "Check the shoulder before the ball arrives.",
        ),
        (
            "Add a passive, then an active defender.",
            "Serve harder and from further away.",
            "Use the weaker foot.",
        ),
    ),
    "transition": Plan(
        "Transition",
        "Reacting fast when the ball changes hands.",
        "Mark a {side} x {side} m area with a goal at each end; two teams with bibs.",
        (
            "Play a small-sided game.",
            "When the coach calls, the team without the ball gets a new ball to attack.",
            "Winning the ball and scoring within 10 seconds counts double.",
            "Rest and reset between rounds.",
        ),
        (
            "First thought after winning the ball: forward.",
            "Nearest player presses at once when the ball is lost.",
            "Support the ball carrier quickly.",
        ),
        (
            "Shorten the scoring window.",
            "Add a neutral player for the attacking side.",
            "Play overloads such as 4v3.",
        ),
    ),
    "goalkeeping": Plan(
        "Goalkeeping",
        "Goalkeeper handling, positioning and shot stopping.",
        "One goal with cones marking the six-yard box; a server with several balls.",
        (
            "Handling: catches at chest, waist and above the head.",
            "Low dives to each side from the knees, then standing.",
            "Shots from angles; the keeper adjusts position on each.",
            "Finish with crosses and shots in a small game.",
        ),
        (
            "Set position as the shot is struck.",
            "Hands behind the ball; W-shape for high catches.",
            "Attack the ball; recover quickly to the feet.",
        ),
        (
            "Add a second server for quick rebounds.",
            "Shoot from closer range.",
            "Add an attacker to challenge the keeper.",
        ),
    ),
    "conditioning": Plan(
        "Conditioning",
        "Game-related fitness with the ball.",
        "Mark a {side} x {side} m area with cones at each corner; {groups}.",
        (
            "Dynamic warm-up around the area.",
            "Intervals: 30 seconds of work, 30 seconds of rest, with a ball where possible.",
            "Relay races between the cones.",
            "Cool down with light jogging and stretches.",
        ),
        (
            "Quality of movement first, then speed.",
            "Encourage effort and recovery breathing.",
            "Keep water breaks regular.",
        ),
        (
            "Lengthen the work intervals.",
            "Shorten the rest.",
            "Add a ball to every station.",
        ),
    ),
    "agility": Plan(
        "Agility",
        "Footwork, balance and quick changes of direction.",
        "Lay out the ladders, hurdles or cones in lines about 10 m long; {groups}.",
        (
            "Footwork patterns through the ladder or cones: in-in-out-out, side steps.",
            "Zig-zag runs around the cones, planting the outside foot.",
            "Reaction starts: sprint to the cone the coach points at.",
            "Finish with a race that ends with a ball skill.",
        ),
        (
            "Stay on the balls of the feet.",
            "Low centre of gravity when changing direction.",
            "Arms drive the movement.",
        ),
        (
            "Add a ball.",
            "Make the reaction cue visual instead of spoken.",
            "Race against a partner.",
        ),
    ),
    "warm-up": Plan(
        "Warm-Up",
        "Raise the heart rate and prepare the body for training.",
        "Mark a {side} x {side} m area with cones; everyone inside.",
        (
            "Light jog with changes of direction.",
            "Dynamic stretches: leg swings, hip openers, lunges.",
            "Short accelerations across the area.",
            "A quick ball game to finish.",
        ),
        (
            "Start easy and build up.",
            "Full range of movement in the stretches.",
            "Keep everyone moving.",
        ),
        (
            "Add a ball for each player.",
            "Turn the accelerations into races.",
            "Use the warm-up to preview the session's theme.",
        ),
    ),
    "teamwork": Plan(
        "Teamwork",
        "Communication and working together.",
        "Mark a {side} x {side} m area; {groups}.",
        (
            "Groups complete a passing pattern and must call the receiver's name.",
            "Silent round: only gestures allowed.",
            "Groups solve a task together, e.g. keep the ball off the ground.",
            "Finish with a small game where every player must touch the ball before a goal.",
        ),
        (
            "Talk early and clearly.",
            "Praise teammates' effort.",
            "Everyone has a role.",
        ),
        (
            "Add a time limit.",
            "Mix the groups.",
            "Add an opposing team.",
        ),
    ),
}

# A drill with no focus (or a focus no table has a plan for).
GENERAL_PLAN = Plan(
    "",
    "Core skills in a game-like setting.",
    "Mark a {side} x {side} m area with cones; {groups}.",
    (
        "Warm up with the ball.",
        "Technical practice of the skill in pairs or small groups.",
        "Opposed practice: add defenders.",
        "Finish with a small-sided game.",
    ),
    (
        "Keep everyone active; short queues.",
        "Demonstrate once, then let them play.",
        "Praise good decisions, not only good outcomes.",
    ),
    (
        "Add pressure or a time limit.",
        "Change the size of the area.",
        "Add conditions to the game.",
    ),
)
