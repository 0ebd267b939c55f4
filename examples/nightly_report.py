"""A scheduled nightly job: aggregate yesterday's orders and write a report.

Runs every night at 03:30 Paris time on Step Functions (EventBridge
Scheduler). ``@retry`` absorbs flaky sources, ``@catch`` keeps the report
going when one optional source fails, ``@timeout`` bounds every fetch and
``@environment`` passes settings to the container.
"""

import datetime
import os

from sfncompile import FlowSpec, Parameter, catch, environment, retry, schedule, step, timeout

ORDERS = [
    {"order": 1, "region": "north", "amount": 120.0},
    {"order": 2, "region": "south", "amount": 75.5},
    {"order": 3, "region": "north", "amount": 33.25},
    {"order": 4, "region": "east", "amount": 410.0},
    {"order": 5, "region": "south", "amount": 12.0},
]


@schedule(cron="30 3 * * ? *", timezone="Europe/Paris")
class NightlyReportFlow(FlowSpec):
    """Aggregate the day's orders into a per-region report."""

    report_date = Parameter("report_date", default="", help="YYYY-MM-DD; empty means yesterday")
    currency = Parameter("currency", default="EUR", help="Currency shown in the report")

    @step
    def start(self):
        if self.report_date:
            self.day = self.report_date
        else:
            self.day = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
        self.next(self.fetch_orders)

    @retry(times=3, minutes_between_retries=1)
    @timeout(minutes=10)
    @environment(vars={"ORDERS_SOURCE": "warehouse", "REPORT_LOCALE": "fr_FR"})
    @step
    def fetch_orders(self):
        """The main source: must succeed (retried up to three times)."""
        self.source = os.environ.get("ORDERS_SOURCE", "local")
        self.orders = list(ORDERS)
        self.next(self.fetch_refunds)

    @catch(var="refunds_error")
    @retry(times=1)
    @timeout(seconds=120)
    @step
    def fetch_refunds(self):
        """An optional source: if it keeps failing, report without refunds."""
        self.refunds = {2: 10.0}
        self.next(self.aggregate)

    @step
    def aggregate(self):
        refunds = getattr(self, "refunds", None) or {}
        self.totals = {}
        for row in self.orders:
            net = row["amount"] - refunds.get(row["order"], 0.0)
            self.totals[row["region"]] = self.totals.get(row["region"], 0.0) + net
        self.had_refunds = not getattr(self, "refunds_error", None)
        self.next(self.end)

    @step
    def end(self):
        lines = [f"Orders report for {self.day} ({self.currency})"]
        for region in sorted(self.totals):
            lines.append(f"  {region:<6} {self.totals[region]:>10.2f}")
        if not self.had_refunds:
            lines.append("  (refunds unavailable)")
        self.report = "\n".join(lines)
        print(self.report)


if __name__ == "__main__":
    NightlyReportFlow()
