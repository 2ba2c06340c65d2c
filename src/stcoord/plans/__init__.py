"""Strategic plans: procedure and gates, decisions, drafts, goals, tasks, indicators, progress."""
