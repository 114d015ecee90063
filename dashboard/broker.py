"""The embedded broker: kombu's filesystem transport without its half-written messages.

kombu's ``_put`` creates a message file under its final name and then writes it, so a worker
polling the folder can read it empty or half-written; ``loads()`` then raises and the worker
stops for good ("Unrecoverable error: JSONDecodeError", celery/kombu#1551). What differs here:

- ``_put`` writes to a dot-prefixed name, which no listing of kombu's takes for a message, and
  renames it to kombu's name once it is complete and on disk (``os.replace`` is atomic);
- ``_get`` moves a message it cannot decode to ``broken/`` in the queue folder with a warning,
  and goes on to the next one, instead of raising;
- a broadcast that waits for replies (ping, inspect) deletes, when it is over, its requests that
  no worker took. The fanout writes one file per pidbox queue bound to the control exchange, and
  a worker that stops stays bound on this transport: without this, every ping would leave one
  file per stopped worker that nothing ever reads.

Everything else (names and their order, folders, options) is kombu's. dashboard/celery.py makes
``filesystem://`` mean this transport. ``prune`` deletes the leftovers the folders collect.
"""

import logging
import os
import shutil
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError, KombuError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"  # kombu's scheme
        final = os.path.join(self.data_folder_out, name)
        hidden = os.path.join(self.data_folder_out, "." + name)
        try:
            with open(hidden, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
                f.flush()
                os.fsync(f.fileno())
            os.replace(hidden, final)
        except OSError as exc:
            Path(hidden).unlink(missing_ok=True)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        done_folder = self.processed_folder if self.store_processed else tempfile.gettempdir()
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != f"{queue}.msg":
                continue
            try:
                # Moving the file out claims it: a consumer that comes second fails here.
                path = shutil.move(os.path.join(self.data_folder_in, name), done_folder)
            except OSError:
                continue
            try:
                with open(path, "rb") as f:
                    message = loads(bytes_to_str(f.read()))
            except OSError as exc:
                raise ChannelError(f"Cannot read file {path!r} from queue.") from exc
            except ValueError:  # empty, not JSON or not UTF-8
                broken = os.path.join(self.data_folder_in, "broken")
                os.makedirs(broken, exist_ok=True)
                moved = shutil.move(path, broken)
                os.utime(moved)  # its age (see prune) counts from now, not from when it was sent
                logger.warning("Unreadable message %s moved to %s", name, broken)
                continue
            if not self.store_processed:
                os.remove(path)
            return message
        raise Empty()

    def after_reply_message_received(self, queue):
        # kombu calls this when a broadcast has collected its replies, and deletes the reply
        # queue, named "<oid>.reply.<namespace>.pidbox". A request of that broadcast still
        # waiting now is for a worker that is gone (a live one takes it within a polling
        # interval), and its answer could only go to nobody.
        super().after_reply_message_received(queue)
        oid = queue.partition(".")[0]
        for name in os.listdir(self.data_folder_out):
            if not name.startswith(".") and name.endswith(".pidbox.msg"):
                path = os.path.join(self.data_folder_out, name)
                if self._reply_key(path) == oid:
                    Path(path).unlink(missing_ok=True)

    def _reply_key(self, path) -> str | None:
        """The routing key the request in ``path`` wants its replies sent with, if any."""
        try:
            with open(path, "rb") as f:
                payload = loads(bytes_to_str(f.read()))
            request = self.Message(payload, channel=self, accept=["application/json"]).decode()
            return request["reply_to"]["routing_key"]
        except (OSError, ValueError, LookupError, TypeError, KombuError):
            return None  # taken by a worker meanwhile, or no request with a reply address


class Transport(filesystem.Transport):
    Channel = Channel

    @property
    def default_connection_params(self):
        # Folders have no host: kombu's default "localhost" only made it warn "No hostname was
        # supplied" on every connection of every process.
        return {"port": self.default_port}


#: Broker files older than this are leftovers nobody will read (``prune``).
LEFTOVER_AGE = timedelta(days=1)


def prune(options: dict, now: datetime | None = None, dry_run: bool = False) -> int:
    """Delete the leftovers of the folders named in ``options`` (the broker transport options)
    that are older than ``LEFTOVER_AGE``; with ``dry_run`` only count them. Returns how many.

    Never a message of a task queue. What goes:

    - ``broken/``: messages no worker could read (logged when moved there);
    - the processed folder, when ``store_processed`` keeps copies of consumed messages;
    - dot-files of the queue folder: messages whose sender died while writing them (``_put``);
    - remote-control (pidbox) messages: broadcasts such as the health check's ping, valid for
      seconds (a worker drops them once their ``expires`` header has passed). A worker that is
      gone stays bound to the broadcast exchange, so one lands in the folder at every ping.

    The control folder is left alone: its files are the tables that route every message, and
    are written only when a queue is bound, so their age says nothing about their use.
    """
    cutoff = ((now or datetime.now(UTC)) - LEFTOVER_AGE).timestamp()
    queue_folders = {Path(options["data_folder_in"]), Path(options["data_folder_out"])}
    leftovers = [
        path
        for folder in queue_folders
        for path in _files(folder)
        if path.name.startswith(".") or path.name.partition(".")[2].endswith(".pidbox.msg")
    ]
    leftovers += _files(Path(options["data_folder_in"]) / "broken")
    if options.get("store_processed"):
        leftovers += _files(Path(options.get("processed_folder", "processed")))
    count = 0
    for path in leftovers:
        try:
            if path.stat().st_mtime >= cutoff:
                continue
            if not dry_run:
                path.unlink()
        except FileNotFoundError:  # a worker took it meanwhile
            continue
        count += 1
    return count


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
