"""The ``newswire`` command. User mistakes end in one line on stderr and exit 1; wrong usage
exits 2 (argparse); nothing a user can cause prints a traceback."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging.config
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import orjson

from agents.kafka import broker
from agents.kafka.clients import (
    KafkaUnavailable,
    read_topic,
    render_record,
    send_raw_items,
    unreachable,
)
from agents.kafka.topics import TopicMismatch
from pipeline.chain import Advisory, DeadLetter, Duplicate, Outcome, Published, run_chain
from pipeline.config import ConfigError, Settings
from pipeline.dedup import DedupIndex
from pipeline.enrich import enrichment_for
from pipeline.feeds import FeedError, load_feeds
from pipeline.ingest import InputError, InputFailure, read_inputs
from pipeline.records import FORMATS, RawItem, parse_rfc3339, utc_now
from pipeline.subscriptions import FilterError, Subscription, SubscriptionIndex, parse_filter


class CommandError(RuntimeError):
    """A failure the user must act on; its message is printed as the one line."""


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load(
        kafka_bootstrap=getattr(args, "bootstrap", None),
        topic_prefix=getattr(args, "topic_prefix", None),
        web_port=getattr(args, "web_port", None),
        partitions=getattr(args, "partitions", None),
        log_level=getattr(args, "log_level", None),
        feeds_file=getattr(args, "feeds_file", None),
    )


def cmd_kafka(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.action == "status":
        running, line = broker.status(settings)
        print(line)
        return 0 if running else 1
    if not settings.uses_local_broker:
        running, line = broker.status(settings)
        print(f"{line}; no local broker is {'started' if args.action == 'up' else 'stopped'}")
        return 0 if running else 1
    print(broker.start(settings) if args.action == "up" else broker.stop(settings))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from faust import Worker

    from agents.app import create_app
    from agents.kafka.standby import wait_for_broker
    from agents.kafka.topics import ensure_topics
    from agents.observe.logs import logging_config

    settings = _settings(args)
    logging.config.dictConfig(logging_config(settings.log_level))
    settings.check_listening()
    if not asyncio.run(wait_for_broker(settings)):
        raise unreachable(settings)
    asyncio.run(ensure_topics(settings))
    app = create_app(settings).app
    # The model and the app live as long as the worker: frozen out of the collector's
    # sight, a full collection scans only what the stream allocates (under a backlog such
    # collections paused every stage for up to 0.4 s, several in a row).
    gc.collect()
    gc.freeze()
    worker = Worker(
        app,
        loglevel=settings.log_level.upper(),
        logging_config=logging_config(settings.log_level),
        quiet=True,
    )
    worker.execute_from_commandline()
    return 0


def _items_and_failures(args: argparse.Namespace) -> tuple[list[RawItem], list[InputFailure]]:
    items: list[RawItem] = []
    failures: list[InputFailure] = []
    for entry in read_inputs(args.paths, format=args.format, source=args.source):
        (failures if isinstance(entry, InputFailure) else items).append(entry)  # type: ignore[arg-type]
    return items, failures


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = _settings(args)
    items, failures = _items_and_failures(args)
    for failure in failures:
        print(f"newswire: {failure.where}: {failure.reason}", file=sys.stderr)
    report = asyncio.run(send_raw_items(settings, items))
    for item_id, reason in report.failures:
        print(f"newswire: item {item_id}: {reason}", file=sys.stderr)
    failed = len(failures) + len(report.failures)
    print(f"sent {report.sent}, failed {failed}")
    return 1 if failed else 0


def cmd_tail(args: argparse.Namespace) -> int:
    settings = _settings(args)
    wanted = (
        SubscriptionIndex([Subscription("tail", parse_filter(args.filter))])
        if args.filter
        else None
    )
    count = 0

    def emit(value: bytes | None) -> bool:
        nonlocal count
        if wanted is not None and not _story_matches(wanted, value):
            return True
        print(render_record(value), flush=True)
        count += 1
        return args.max is None or count < args.max

    if args.max is not None and args.max <= 0:
        return 0
    asyncio.run(
        read_topic(
            settings,
            args.topic,
            emit,
            from_beginning=args.from_beginning,
            idle_timeout=args.timeout,
        )
    )
    return 0


def _story_matches(index: SubscriptionIndex, value: bytes | None) -> bool:
    try:
        story = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return False
    return isinstance(story, dict) and "newswire" in story and bool(index.match(story))


def _outcome_line(outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, Published):
        return {"itemId": outcome.item_id, "status": "published", "story": outcome.story}
    if isinstance(outcome, Advisory):
        return {"itemId": outcome.item_id, "status": "advisory", "advisory": outcome.notice}
    if isinstance(outcome, Duplicate):
        return {
            "itemId": outcome.item_id,
            "status": "duplicate",
            "duplicateOf": outcome.notice["duplicateOf"],
        }
    return {
        "itemId": outcome.item_id,
        "status": "rejected",
        "reason": f"{outcome.letter['stage']}: {outcome.letter['reason']}",
    }


def cmd_process(args: argparse.Namespace) -> int:
    """Batch mode: the same steps as the agents, in-process, in input order."""
    settings = _settings(args)
    index = None if args.skip_dedup else DedupIndex()
    config = settings.dedup_config()
    enrich = enrichment_for(settings)
    unreadable = 0
    for entry in read_inputs(args.paths, format=args.format, source=args.source):
        if isinstance(entry, InputFailure):
            unreadable += 1
            print(f"newswire: {entry.where}: {entry.reason}", file=sys.stderr)
            if args.emit == "all":
                line = {"itemId": entry.where, "status": "rejected", "reason": entry.reason}
                sys.stdout.write(orjson.dumps(line).decode() + "\n")
            continue
        outcome = run_chain(
            entry.to_json(),
            index,
            settings.max_item_bytes,
            settings.validate_stories,
            config,
            enrich,
        )
        if args.emit == "all":
            sys.stdout.write(orjson.dumps(_outcome_line(outcome)).decode() + "\n")
        elif isinstance(outcome, Published):
            sys.stdout.write(orjson.dumps(outcome.story).decode() + "\n")
        elif isinstance(outcome, DeadLetter):
            letter = outcome.letter
            print(
                f"newswire: item {outcome.item_id} rejected at {letter['stage']}: "
                f"{letter['reason']}",
                file=sys.stderr,
            )
    return 1 if unreadable else 0


def cmd_feeds(args: argparse.Namespace) -> int:
    from agents.feeds.runners import feeds_state
    from agents.observe.logs import logging_config
    from agents.web.feed_server import run_standalone

    settings = _settings(args)
    if not settings.feeds_file:
        raise CommandError("no feed file: set NEWSWIRE_FEEDS_FILE or pass --file")
    if args.action == "list":
        print(
            f"{'feed':<24} {'kind':<10} {'state':<8} {'last item':<20} {'/hour':>6} {'errors':>6}"
        )
        for row in feeds_state(settings):
            last = row["lastItemAt"]
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(last)) if last else "never"
            print(
                f"{row['name']:<24} {row['kind']:<10} {row['state']:<8} {when:<20} "
                f"{row['itemsLastHour']:>6} {row['errorsTotal']:>6}"
            )
            if row["lastError"]:
                print(f"{'':<24} last error: {row['lastError']}")
        return 0
    if not load_feeds(Path(settings.feeds_file)):
        raise CommandError(f"{settings.feeds_file} lists no feeds")
    logging.config.dictConfig(logging_config(settings.log_level))
    try:
        asyncio.run(run_standalone(settings))
    except OSError as error:
        raise CommandError(f"cannot serve on {settings.web_url}: {error.strerror}") from None
    return 0


def cmd_subscriptions(args: argparse.Namespace) -> int:
    from agents.push.resend import push_target_of, resend

    settings = _settings(args)
    since = _moment(args.since)
    target = asyncio.run(push_target_of(settings, args.name))
    if target is None:
        raise CommandError(f"no saved subscription {args.name!r} with a push target")
    count = asyncio.run(resend(settings, args.name, target, since))
    print(f"resent {count} records of {args.name} from {since.isoformat()} to {target.url}")
    return 0


def _moment(text: str) -> datetime:
    """An RFC 3339 time, or a time ago: ``90m``, ``6h``, ``2d``."""
    units = {"m": 60, "h": 3600, "d": 86400}
    if text[:-1].isdigit() and text[-1:] in units:
        return utc_now() - timedelta(seconds=int(text[:-1]) * units[text[-1]])
    try:
        return parse_rfc3339(text)
    except ValueError:
        raise CommandError(f"--from {text!r} is neither an RFC 3339 time nor 90m, 6h, 2d") from None


def cmd_demo(args: argparse.Namespace) -> int:
    from agents.cli.demo import run_demo

    return run_demo(_settings(args), once=args.once)


def installed_version() -> str:
    try:
        return version("newswire")
    except PackageNotFoundError:
        return "(not installed: run from a checkout without `make setup`)"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--bootstrap",
        metavar="HOST:PORT",
        help="Kafka cluster to use (NEWSWIRE_KAFKA_BOOTSTRAP); default: local",
    )
    common.add_argument("--topic-prefix", metavar="PREFIX", help="NEWSWIRE_TOPIC_PREFIX")
    inputs = argparse.ArgumentParser(add_help=False)
    inputs.add_argument("paths", nargs="*", metavar="PATH", help="files, folders or - for stdin")
    inputs.add_argument("--format", choices=FORMATS, default="auto")
    inputs.add_argument(
        "--source",
        default="cli",
        metavar="NAME",
        help="feed or agency name of the items (default: cli)",
    )

    parser = argparse.ArgumentParser(
        prog="newswire", description="Streaming news-wire processing over Kafka."
    )
    parser.add_argument("--version", action="version", version=f"newswire {installed_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    kafka = commands.add_parser("kafka", parents=[common], help="the local Kafka broker")
    kafka.add_argument("action", choices=("up", "down", "status"))
    kafka.set_defaults(handler=cmd_kafka)

    worker = commands.add_parser("worker", parents=[common], help="run the Faust worker")
    worker.add_argument("--web-port", type=int, metavar="PORT", help="NEWSWIRE_WEB_PORT")
    worker.add_argument("--partitions", type=int, metavar="N", help="NEWSWIRE_PARTITIONS")
    worker.add_argument("--log-level", choices=("debug", "info", "warning", "error"))
    worker.set_defaults(handler=cmd_worker)

    ingest = commands.add_parser(
        "ingest", parents=[common, inputs], help="produce raw items to wire.raw"
    )
    ingest.set_defaults(handler=cmd_ingest)

    tail = commands.add_parser("tail", parents=[common], help="print a topic as JSON Lines")
    tail.add_argument("topic")
    tail.add_argument("--from-beginning", action="store_true")
    tail.add_argument("--max", type=int, metavar="N", help="stop after N records")
    tail.add_argument(
        "--timeout", type=float, metavar="S", help="stop after S seconds without a new record"
    )
    tail.add_argument(
        "--filter",
        metavar="FILTER",
        help="only stories that match a subscription filter, e.g. 'entities=MI6;places=RU,UA'",
    )
    tail.set_defaults(handler=cmd_tail)

    feeds = commands.add_parser(
        "feeds", parents=[common], help="run the feeds of the feed file, or list their state"
    )
    feeds.add_argument("action", choices=("run", "list"))
    feeds.add_argument("--file", dest="feeds_file", metavar="PATH", help="NEWSWIRE_FEEDS_FILE")
    feeds.add_argument("--web-port", type=int, metavar="PORT", help="NEWSWIRE_WEB_PORT")
    feeds.set_defaults(handler=cmd_feeds)

    process = commands.add_parser(
        "process", parents=[inputs], help="run the stage chain in-process, without Kafka"
    )
    process.add_argument("--skip-dedup", action="store_true")
    process.add_argument("--emit", choices=("stories", "all"), default="stories")
    process.set_defaults(handler=cmd_process)

    subscriptions = commands.add_parser(
        "subscriptions", parents=[common], help="deliver a push subscription's records again"
    )
    subscriptions.add_argument("action", choices=("resend",))
    subscriptions.add_argument("name", metavar="NAME", help="the saved subscription")
    subscriptions.add_argument(
        "--from",
        dest="since",
        required=True,
        metavar="TIME",
        help="RFC 3339 time, or a time ago (90m, 6h, 2d)",
    )
    subscriptions.set_defaults(handler=cmd_subscriptions)

    demo = commands.add_parser(
        "demo", parents=[common], help="broker, worker and the samples: the main job"
    )
    demo.add_argument(
        "--once",
        action="store_true",
        help="stop after printing the stories instead of waiting for Ctrl-C",
    )
    demo.set_defaults(handler=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except (
        ConfigError,
        CommandError,
        InputError,
        KafkaUnavailable,
        FilterError,
        FeedError,
        TopicMismatch,
        broker.BrokerError,
    ) as error:
        print(f"newswire: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code
