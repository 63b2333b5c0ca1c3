"""Plain functions from the ledger to result dataclasses: one per question."""
