"""Generate a deterministic corpus of articles for the benchmarks.

    .venv/bin/python bench/corpus.py /tmp/corpus --articles 10000

Writes ``<dir>/site.toml`` and ``<dir>/posts/*.md`` (front matter like the demo content, bodies of
600 to 1,500 words). The prose comes from a word-level Markov chain trained on the demo articles in
``content/posts``, with each article given its own subject (a trade, a product, a channel) whose
words replace some of the nouns, so the vocabulary is as uneven as a real site's: a few words
everywhere, most words in few articles. The same seed always gives the same files.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path


def _words(text: str) -> list[str]:
    return text.split()


REPO = Path(__file__).resolve().parent.parent

TRADES = _words("""
bakery bookshop florist dentist optician bicycle brewery cinema theatre museum gallery
library pharmacy garage hairdresser barber tailor cobbler jeweller locksmith plumber
electrician carpenter roofer gardener nursery kennel vet pet-shop aquarium zoo farm dairy
orchard vineyard winery distillery roastery teahouse patisserie chocolatier delicatessen
fishmonger butcher greengrocer grocer supermarket hardware ironmonger stationer printer
photographer studio gym yoga pilates climbing swimming tennis golf sailing surfing skiing
bowling arcade escape-room festival conference hotel hostel campsite airline railway ferry
coach taxi courier removals storage laundrette drycleaner cleaner nanny tutor school college
university bootcamp clinic physio chiropractor osteopath dietitian pharmacy hospice charity
council club choir orchestra band podcast newspaper magazine radio streaming games toyshop
boutique outlet marketplace auction pawnbroker bank insurer broker accountant lawyer notary
architect surveyor estate-agent landlord co-working makerspace repair-cafe seedbank
allotment""")

THINGS = _words("""
loaf croissant sourdough paperback hardback bouquet tulip filling lens frame saddle gear
chain tyre lager stout ticket popcorn matinee exhibit sculpture canvas prescription
alignment haircut beard suit hem sole ring watch key padlock boiler tap fuse shelf gutter
hedge seedling leash collar tank filter ticketing harvest cider grape barrel whisky espresso
matcha truffle praline salami haddock sirloin parsnip lettuce nail hammer notebook envelope
poster portrait membership locker mat harness racket paddle board wax pin token lanyard
keycard suitcase boarding seat timetable parcel crate van duvet detergent lesson syllabus
tuition appointment x-ray stretch meal donation ballot rehearsal score episode microphone
subscription headline frequency chart puzzle dice doll scarf voucher coupon bid deposit
premium policy invoice receipt contract blueprint survey tenancy desk printer soldering
kettle seed compost trowel raffle loyalty stamp sticker badge""")

CHANNELS = _words("""
email inbox webhook newsletter digest push sms chat forum feed widget kiosk receipt leaflet
poster billboard catalogue brochure""")

TAGS = [
    "Permission marketing",
    "Strategy",
    "Consent",
    "Messaging",
    "Conversational messaging",
    "Pull-first content",
    "Rewards",
    "Email",
    "Measurement",
    "Search",
    "Retail",
    "Hospitality",
    "Local business",
    "Loyalty",
    "Privacy",
    "Design",
    "Writing",
    "Deliverability",
    "Community",
    "Events",
    "Ecommerce",
    "Subscriptions",
    "Mobile",
    "Analytics",
    "Customer service",
    "Onboarding",
    "Referrals",
    "Surveys",
    "Stickers",
    "Case study",
]

TITLES = [
    "What a {trade} taught us about {topic}",
    "{Topic} for the small {trade}",
    "How one {trade} earned permission",
    "Why your {trade} should stop pushing",
    "A {trade} guide to {topic}",
    "The {thing} test for {topic}",
    "{Topic}, one {thing} at a time",
    "Notes from a {trade}: {topic}",
    "When the {thing} is the message",
    "Ten questions about {topic}",
    "The quiet {trade}: {topic} without noise",
    "{Topic} lessons from the {trade}",
]

TOPICS = [
    "permission",
    "consent",
    "loyalty",
    "replies",
    "rewards",
    "quiet hours",
    "unsubscribes",
    "surveys",
    "stickers",
    "scopes",
    "feeds",
    "site search",
    "referrals",
    "codes in store",
    "the weekly letter",
    "cooldowns",
    "caps",
]

STOP = set(
    _words("""
the a an and or but of to in on at for with from by as is are was were be it its this that
these those you your we our they their he she not no""")
)


def _seed_text() -> list[str]:
    words: list[str] = []
    for path in sorted((REPO / "content" / "posts").glob("*.md")):
        text = path.read_text(encoding="utf-8").split("\n---\n", 1)[-1]
        text = re.sub(r"```.*?```", " ", text, flags=re.S)
        text = re.sub(r"^\s*(?:#+|!!!|\||-|\d+\.|>)[^\n]*$", " ", text, flags=re.M)
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)|[*_`]", r"\1", text)
        words.extend(text.split())
    return words


def _chain(words: list[str]) -> tuple[dict[tuple[str, str], list[str]], list[tuple[str, str]]]:
    chain: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a, b, c in zip(words, words[1:], words[2:], strict=False):
        chain[(a, b)].append(c)
    starts = sorted(k for k in chain if k[0][:1].isupper() and k[0][-1:] not in ".:;,")
    return dict(chain), starts


def _prose(
    rng: random.Random,
    chain: dict[tuple[str, str], list[str]],
    starts: list[tuple[str, str]],
    words: int,
    subject: list[str],
) -> list[str]:
    out: list[str] = []
    while len(out) < words:
        key = rng.choice(starts)
        sentence = list(key)
        while len(sentence) < 60:
            nexts = chain.get((sentence[-2], sentence[-1]))
            if not nexts:
                break
            word = rng.choice(nexts)
            previous = sentence[-1].lower()
            if (
                previous in {"the", "a", "your", "our", "every", "each"}
                and rng.random() < 0.3
                and word.isalpha()
                and word.lower() not in STOP
            ):
                word = rng.choice(subject)
            sentence.append(word)
            if word[-1:] in ".?!" and len(sentence) > 6:
                break
        if sentence[-1][-1:] not in ".?!":
            sentence[-1] = sentence[-1].rstrip(",;:") + "."
        out.extend(sentence)
    return out


def _paragraphs(rng: random.Random, words: list[str]) -> str:
    blocks, index, since_heading = [], 0, 0
    while index < len(words):
        end = index + rng.randint(45, 110)
        while end < len(words) and words[end - 1][-1:] not in ".?!":
            end += 1
        chunk = words[index:end]
        index = end
        if since_heading >= rng.randint(3, 5) and index < len(words):
            heading = " ".join(w.strip('.,;:?!"“”') for w in chunk[: rng.randint(3, 6)])
            blocks.append("## " + heading[:1].upper() + heading[1:])
            since_heading = 0
        blocks.append(" ".join(chunk))
        since_heading += 1
    return "\n\n".join(blocks)


def article(
    number: int, chain: dict[tuple[str, str], list[str]], starts: list[tuple[str, str]], seed: int
) -> tuple[str, str]:
    """``(file name, file text)`` of article ``number``."""
    rng = random.Random(seed * 1_000_003 + number)
    trade = rng.choice(TRADES).replace("-", " ")
    subject = [*rng.sample(THINGS, 10), trade, rng.choice(CHANNELS), rng.choice(CHANNELS)]
    topic = rng.choice(TOPICS)
    title = (
        rng.choice(TITLES)
        .format(
            trade=trade, thing=rng.choice(subject), topic=topic, Topic=topic[:1].upper() + topic[1:]
        )[:60]
        .strip()
    )
    body_words = _prose(rng, chain, starts, rng.randint(600, 1500), subject)
    description = " ".join(body_words[: rng.randint(16, 24)]).rstrip(",;:")[:150] + "."
    tags = sorted(
        {
            TAGS[min(int(rng.paretovariate(1.2)) - 1, len(TAGS) - 1)]
            for _ in range(rng.randint(1, 4))
        }
    )
    day = date(2015, 1, 1) + timedelta(days=number * 4017 // 10_000 + rng.randint(0, 3))
    slug = f"{re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')[:60]}-{number}"
    front = [
        "---",
        f'title: "{title}"',
        f'description: "{description.replace(chr(34), "")}"',
        f"date: {day.isoformat()}",
        "tags: [" + ", ".join(tags) + "]",
    ]
    if number % 7 == 0:
        front.append("cta: scope:newsletter")
    text = "\n".join([*front, "---", "", _paragraphs(rng, body_words), ""])
    return f"{slug}.md", text


def generate(target: Path, articles: int, seed: int = 7) -> int:
    chain, starts = _chain(_seed_text())
    posts = target / "posts"
    posts.mkdir(parents=True, exist_ok=True)
    (target / "site.toml").write_text(
        'title = "Benchmark Journal"\ndescription = "A generated corpus for benchmarks."\n'
        'language = "en"\nauthor = "The generator"\n'
    )
    words = 0
    for number in range(articles):
        name, text = article(number, chain, starts, seed)
        (posts / name).write_text(text, encoding="utf-8")
        words += len(text.split("\n---\n", 1)[1].split())
    return words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    words = generate(options.target, options.articles, options.seed)
    print(f"{options.articles} articles, {words:,} words, in {options.target}", file=sys.stderr)


if __name__ == "__main__":
    main()
