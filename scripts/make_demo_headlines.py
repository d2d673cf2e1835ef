#!/usr/bin/env python3
"""Writes assets/demo_headlines.csv: the demo kit's labelled headlines.

Two parts, both written for this project:
- scripts/demo-data/written_headlines.csv: 360 headlines written one by one (60 per category);
- headlines composed here from phrases written for each category (who, what they do, how or where,
  and shared tails such as places and times that belong to no category), 290 per category.

The output is deterministic (a seeded generator, rows in a fixed order), so re-running this script
reproduces the shipped files byte for byte:  python3 scripts/make_demo_headlines.py

It also writes assets/demo_pretrain.txt: 6,000 more headlines composed the same way, without labels
and none of them in the labelled set, which scripts/make-demo-encoder.sh pre-trains the demo encoder
on (masked-LM), the way BERT read unlabelled text before it was fine-tuned.
"""
import csv
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PER_CATEGORY = 290
PRETRAIN_PER_CATEGORY = 1000
SEED = 20261130

# Tails that carry no category: places, times, numbers.
SHARED_TAILS = [
    "in Leeds", "in Glasgow", "in Cardiff", "in Belfast", "across the north", "in the capital",
    "after two years", "this week", "for the first time", "despite protests", "amid uncertainty",
    "ahead of the weekend", "in coastal towns", "after a long delay", "by the end of the year",
    "in rural areas", "for a third time", "as winter begins", "in Bristol", "on Monday",
]

# Each category: groups of (who, what they do) that go together, and endings of its own.
# Verbs are written in the base form; "+" marks a plural subject (the verb stays as written).
PHRASES = {
    "business": {
        "groups": [
            (["Shares in the carmaker", "+Oil prices", "The pound", "+House prices", "Factory output",
              "The stock market", "+Retail sales", "The price of gold"],
             ["fall sharply", "rise for a fifth month", "hit a two-year low", "recover from early losses",
              "climb to a record high", "slip back"]),
            (["The central bank", "A retail chain", "The supermarket group", "The airline", "A budget brewer",
              "A fintech start-up", "The energy supplier", "The mining giant", "The clothing retailer",
              "+Mortgage lenders", "+Small firms", "+Exporters"],
             ["report record profits", "cut hundreds of jobs", "raise prices", "agree a takeover deal",
              "post weaker sales", "announce a share buyback", "warn on annual earnings",
              "close dozens of stores", "beat profit forecasts", "seek fresh investment",
              "lower its growth outlook", "freeze wages", "plan a stock market listing",
              "face a funding shortfall"]),
        ],
        "what": ["as demand weakens", "after a strong quarter", "as costs climb", "amid a price war",
                 "as inflation bites", "following a profit warning", "as consumer spending slows",
                 "after a merger", "as borrowing costs rise", "on hopes of a rate cut"],
    },
    "entertainment": {
        "groups": [
            (["The pop star", "A veteran actor", "The film director", "The boy band", "A debut novelist",
              "The singer", "The rapper", "A children's author", "The orchestra", "A celebrated painter",
              "The theatre company", "A chart-topping duo", "The comedian"],
             ["release a surprise album", "win a Bafta award", "announce a world tour", "sign a record deal",
              "cancel concert dates", "unveil a new exhibition", "land a starring role",
              "headline the festival", "reunite for a farewell show", "launch a memoir",
              "be nominated for an Oscar", "receive rave reviews"]),
            (["The comedy series", "The west end musical", "The streaming drama", "The horror film",
              "The animated sequel", "The period drama", "The quiz show"],
             ["top the box office", "return for a second season", "break streaming records",
              "open on Broadway", "receive rave reviews", "be nominated for an Oscar",
              "win best picture", "draw record audiences"]),
        ],
        "what": ["to the delight of fans", "after a decade away", "ahead of awards season",
                 "with a sold-out show", "as tickets sell out in minutes", "on the red carpet",
                 "with a star-studded cast", "after a viral clip", "at a glittering ceremony",
                 "in front of screaming crowds"],
    },
    "health": {
        "groups": [
            (["+Doctors", "+Nurses", "+Researchers", "+Scientists", "+GP surgeries", "+Surgeons", "+Midwives",
              "+Mental health charities", "+Dementia researchers", "+Health experts"],
             ["warn of a winter crisis", "trial a new treatment", "strike over pay", "call for more funding",
              "detect tumours earlier", "spot early signs of dementia", "test a blood test for cancer",
              "urge people to get vaccinated"]),
            (["A new vaccine", "A daily walk", "A common painkiller", "A cheap drug", "A blood test",
              "Regular exercise", "A weight-loss jab", "A low-salt diet"],
             ["cut the risk of heart disease", "slow memory loss", "reduce deaths from stroke",
              "prevent serious illness", "ease chronic pain", "lower blood pressure",
              "improve sleep", "protect against flu"]),
            (["+Hospital waiting lists", "+Flu cases", "+Cancer patients", "+Diabetes patients",
              "+Measles cases", "+Ambulance waiting times"],
             ["reach record levels", "rise among young adults", "face longer waits",
              "need urgent treatment", "fall for the first time", "double in a year"]),
        ],
        "what": ["in a major clinical trial", "according to a new study", "as wards fill up",
                 "in older patients", "after years of research", "as infections spread",
                 "with fewer side effects", "in a landmark study", "as staff shortages grow",
                 "in people with obesity"],
    },
    "news": {
        "groups": [
            (["+Police", "+Firefighters", "+Rescuers", "+Coastguards", "+Detectives", "+Paramedics",
              "+Ambulance crews", "+Residents", "+Villagers", "+Mountain rescue teams"],
             ["evacuate hundreds of homes", "arrest two men", "search for a missing boy",
              "rescue stranded walkers", "investigate a robbery", "appeal for witnesses",
              "close the motorway", "tackle a large blaze", "free a trapped driver"]),
            (["A storm", "+Flood waters", "A lorry", "A gas explosion", "Heavy snow", "An earthquake",
              "A passenger train", "+Strong winds", "A landslide", "A power cut", "A fire"],
             ["cause travel chaos", "destroy a warehouse", "leave thousands without power",
              "block the main road", "damage a school roof", "trap drivers overnight",
              "flood a town centre", "injure three people", "force a school to close"]),
        ],
        "what": ["after a night of heavy rain", "following a crash", "as the river bursts its banks",
                 "after a fire at a factory", "in a major incident", "as roads are closed",
                 "after a 999 call", "during the rush hour", "as a red warning is issued",
                 "after a suspected arson attack"],
    },
    "politics": {
        "groups": [
            (["The prime minister", "+MPs", "The chancellor", "The opposition leader", "+Ministers",
              "The home secretary", "The cabinet", "+Backbench MPs", "The foreign secretary",
              "+Councillors", "The government", "A senior minister", "The Labour party",
              "The Conservative party", "+Peers", "The first minister", "A select committee"],
             ["call a snap election", "vote against the bill", "unveil the budget",
              "resign over the scandal", "promise tax cuts", "face a confidence vote",
              "back the new law", "criticise the spending plans", "announce a cabinet reshuffle",
              "demand a public inquiry", "reject the reforms", "win a by-election",
              "delay the vote", "launch a leadership bid", "pledge more police",
              "question the minister"]),
        ],
        "what": ["in a Commons showdown", "ahead of the general election", "after a heated debate",
                 "as polls tighten", "in a blow to the government", "as the party divides",
                 "during prime minister's questions", "after a rebellion", "as the campaign begins",
                 "in parliament"],
    },
    "sport": {
        "groups": [
            (["The striker", "The goalkeeper", "The rugby captain", "The boxer", "The golfer",
              "The tennis star", "A teenage sprinter", "The cyclist", "The Olympic swimmer",
              "The marathon runner", "The jockey", "The snooker champion", "The manager"],
             ["score a late winner", "set a world record", "sign a new contract", "be sent off",
              "retire from the sport", "beat the favourite", "win gold", "be sacked after defeat",
              "miss the match through injury", "reach the final", "claim the trophy"]),
            (["England", "Wales", "Scotland", "United", "City", "The champions", "The cricket team",
              "Rovers"],
             ["win the title", "reach the final", "lose on penalties", "claim the trophy",
              "secure promotion", "top the league", "knock out the holders", "beat the favourites"]),
        ],
        "what": ["in a thrilling derby", "at Wimbledon", "in extra time", "at the Olympics",
                 "in the cup final", "with a hat-trick", "at the world championships",
                 "in front of a home crowd", "after a penalty shootout", "in the Six Nations"],
    },
}


def third_person(verb_phrase: str) -> str:
    """The verb phrase for a singular subject: 'cut jobs' -> 'cuts jobs', 'be sent off' -> 'is sent off'."""
    verb, _, rest = verb_phrase.partition(" ")
    irregular = {"be": "is", "have": "has", "do": "does", "go": "goes"}
    if verb in irregular:
        verb = irregular[verb]
    elif re.search(r"(s|sh|ch|x|z)$", verb):
        verb += "es"
    elif re.search(r"[^aeiou]y$", verb):
        verb = verb[:-1] + "ies"
    else:
        verb += "s"
    return f"{verb} {rest}".strip()


def compose(rng: random.Random, p: dict) -> str:
    who_list, did_list = rng.choice(p["groups"])
    who, did = rng.choice(who_list), rng.choice(did_list)
    if who.startswith("+"):
        who = who[1:]
    else:
        did = third_person(did)
    form = rng.random()
    if form < 0.45:
        return f"{who} {did} {rng.choice(p['what'])}"
    if form < 0.75:
        return f"{who} {did} {rng.choice(SHARED_TAILS)}"
    return f"{who} {did}"


def new_headlines(rng: random.Random, per_category: int, seen: set) -> list:
    """`per_category` headlines for each category (in sorted order) that are not in `seen`, as (text,
    label); each one is added to `seen`, so no headline is made twice."""
    made = []
    for label in sorted(PHRASES):
        count = 0
        while count < per_category:
            text = compose(rng, PHRASES[label])
            if text.lower() not in seen:
                seen.add(text.lower())
                made.append((text, label))
                count += 1
    return made


def main() -> None:
    rng = random.Random(SEED)
    with open(ROOT / "scripts/demo-data/written_headlines.csv", newline="", encoding="utf-8") as f:
        rows = [(r["text"], r["label"]) for r in csv.DictReader(f)]
    seen = {text.lower() for text, _ in rows}
    rows += new_headlines(rng, PER_CATEGORY, seen)
    rng.shuffle(rows)
    out = ROOT / "assets/demo_headlines.csv"
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["text", "label"])
        w.writerows(rows)
    print(f"wrote {len(rows)} headlines to {out}")
    unlabelled = [text for text, _ in new_headlines(rng, PRETRAIN_PER_CATEGORY, seen)]
    rng.shuffle(unlabelled)
    out = ROOT / "assets/demo_pretrain.txt"
    out.write_text("\n".join(unlabelled) + "\n", encoding="utf-8")
    print(f"wrote {len(unlabelled)} unlabelled headlines to {out}")


if __name__ == "__main__":
    main()
