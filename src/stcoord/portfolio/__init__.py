"""Portfolio: funded projects, investigators, overlap screening, adjudication, topic landscape."""
