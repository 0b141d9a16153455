"""Training: data, optimizers, schedules, initialization, regularization and the engine. No Qt."""
