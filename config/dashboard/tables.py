"""The shape every dashboard figure takes, so the page, its charts and the XLSX export share one source."""

import datetime
from dataclasses import dataclass, field


@dataclass
class Row:
    """One line of a figure: its cells (label first, then numbers) and the list behind it, if any."""

    cells: list
    url: str = ""


@dataclass
class Table:
    """One dashboard figure: a titled table, drawn as `chart` ("bar", "line", "doughnut" or "" for none).

    `url` is the list or page behind the whole figure; `as_of` is when stored figures were computed (None
    for figures counted live); `chart_columns` are the indexes of the columns drawn (None: every column
    after the label).
    """

    key: str
    title: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    chart: str = "bar"
    note: str = ""
    url: str = ""
    as_of: datetime.datetime | None = None
    chart_columns: list[int] | None = None

    def chart_data(self) -> dict:
        """Labels and one series per charted column, plain JSON types, for static/js/dashboard.js."""
        columns = self.chart_columns or list(range(1, len(self.columns)))
        return {
            "type": self.chart,
            "labels": [str(row.cells[0]) for row in self.rows],
            "series": [
                {"label": str(self.columns[i]), "data": [_number(row.cells[i]) for row in self.rows]} for i in columns
            ],
        }


def _number(value):
    if value is None:
        return None
    return value if isinstance(value, int | float) else float(value)
