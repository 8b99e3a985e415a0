"""The demo (`manage.py seed_demo`, `manage.py simulate_demo`, beat's `simulate_demo_tick`).

The top layer: it imports every app (and test tooling: time_machine, override_settings); no product app
imports it (import-linter's layers contract, tests/demo/test_layout.py).

    registry.py    the seeder and action registries, seed(), simulate_tick(), backdated()
    shops.py       the demo world: logins, shops, catalog, buyers, tracking numbers
    orders.py      orders over every state; the simulator's buyers and unattended shops
    aftersales/    cases over every state, planned from the case FSM and AftersalesSettings
    tasks.py       the beat entry point of the simulator
"""
