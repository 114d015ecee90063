import json

from django.core.management.base import BaseCommand, CommandError

from dashboard import health


class Command(BaseCommand):
    help = (
        "Prints the state of database, broker and workers (with the queues each consumes) and "
        "exits with status 1 when one of them is down. The same as the status page."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json", help="print JSON")

    def handle(self, *args, as_json: bool, **options):
        healthy, state = health.status()
        self.stdout.write(json.dumps(state, indent=2) if as_json else _as_text(state))
        if not healthy:
            down = ", ".join(name for name, part in state.items() if not part["ok"])
            raise CommandError(f"down: {down}")


def _as_text(state: dict) -> str:
    def line(name: str, part: dict, detail: str) -> str:
        return f"{name:<9} {'ok' if part['ok'] else 'down':<5} {detail}"

    database, broker, workers = state["database"], state["broker"], state["workers"]
    lines = [
        line("database", database, database.get("error", database["vendor"])),
        line("broker", broker, broker.get("error", broker["transport"])),
        line("workers", workers, workers.get("error", f"{len(workers['workers'])} answered")),
    ]
    lines += [f"  {name}: {', '.join(queues)}" for name, queues in workers["workers"].items()]
    if workers["unconsumed"]:
        lines.append(f"  no worker consumes: {', '.join(workers['unconsumed'])}")
    return "\n".join(lines)
