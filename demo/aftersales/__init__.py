"""After-sales in the demo: cases over every state and type, and the simulator's after-sales moves.

`seed_cases` walks a few hundred cases through the services — every state, every type, express refunds,
custom rules, negotiations, arbitrations, delay reports, cod vouchers, timeouts handled by the real
deadline sweep — each step at its own backdated time (time_machine), so every timeline is complete and
every deadline is real. A scenario's timing is planned from the case FSM itself (each step runs its
transition's body on an unsaved copy: the next state, the deadline it sets) and from AftersalesSettings,
so the plan follows the machine and whatever periods staff set; a walk that would leave a case past its
deadline does not fit and is tried on another item. `simulate_*` are the simulator's after-sales moves.

    plans.py      the scenarios, and their timing from the FSM and the settings
    seeding.py    the seeders: rules, and cases walked through the services
    simulator.py  the simulator's buyers and unattended shops
    wording.py    what buyers, merchants and staff write (bench reuses it)
"""

from demo.aftersales import seeding, simulator  # noqa: F401  (register the seeders and the actions)
