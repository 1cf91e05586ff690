"""The VM life cycle: phases and transition tables, the engine that applies
them, the driver operations each phase runs, and history/capacity records."""
