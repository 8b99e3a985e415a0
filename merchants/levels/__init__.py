"""Shop levels and scores (L-1..L-8).

- registry: where each app feeds its figures (`level_metric`), and the evaluation's windows;
- metrics: the merchants app's own figures (shipping, IM, orders);
- rules: the level rules as data and the one pure evaluation (the task and the what-if share it);
- scores: the shop score (L-5) and the experience score (L-6) under dated settings;
- engine: the daily run over every active shop (merchants.tasks.evaluate_levels);
- dashboard: what the workbench shows a shop (L-8), and the what-if.
"""
