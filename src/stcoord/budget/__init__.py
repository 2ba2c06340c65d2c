"""Budget: classifications, budget lines, data calls, crosscut, priorities, allocation scenarios."""
