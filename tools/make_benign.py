#!/usr/bin/env python3
"""Generate Siren's own benign-traffic test set (``siren-benign.jsonl``).

The set measures false positives on legitimate requests that look unlike the
public corpora a learned classifier is usually trained on: searches people
really type (including technical ones full of words WAFs dislike), sign-up /
contact / checkout forms with international names and symbol-heavy passwords,
reviews and messages in twenty languages, JSON and GraphQL API bodies,
developer content (bug reports, stack traces, code fences, regexes, cron
expressions), ordinary site URLs and a small, clearly marked set of
WYSIWYG-editor HTML.

Every string in this file (queries, names, addresses, prose, code snippets,
HTML) was written for Siren; none of it is copied from a corpus or a website.
Names, addresses, e-mail addresses and phone numbers are invented.

Output: ``src/siren/data/benign/siren-benign.jsonl`` (one request per line, in
the schema of the shared labelled corpus) and ``README.md`` next to it.
Generation is deterministic (seeded ``random.Random``); every line is
validated against the schema rules before the files are written.

Usage::

    python3 tools/make_benign.py           # regenerate, validate, print counts
    python3 tools/make_benign.py --check   # only validate the existing file
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import random
import re
import struct
import sys
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, quote_plus, unquote, unquote_plus, urlencode

T = TypeVar("T")
Record = dict[str, Any]
Pairs = list[tuple[str, str]]

SEED = 0x5173E7
SOURCE = "siren-benign"
ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "src" / "siren" / "data" / "benign"
OUT_FILE = OUT_DIR / "siren-benign.jsonl"
README_FILE = OUT_DIR / "README.md"
ORIGIN = "https://localhost"

KIND_COUNTS: dict[str, int] = {
    "search": 500,
    "form": 500,
    "prose_i18n": 450,
    "json_api": 500,
    "dev_text": 400,
    "urls": 550,
    "rich_text": 100,
}
PLACEMENTS = ("query", "form", "json", "multipart", "cookie", "path", "header")

# --------------------------------------------------------------------------
# Browsers and request headers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Browser:
    family: str  # chrome | firefox | safari
    ua: str
    ch_ua: str | None = None
    platform: str | None = None
    mobile: bool = False


BROWSERS: tuple[Browser, ...] = (
    Browser(
        "chrome",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
        '"Windows"',
    ),
    Browser(
        "chrome",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
        '"Google Chrome";v="125", "Chromium";v="125", "Not.A/Brand";v="24"',
        '"macOS"',
    ),
    Browser(
        "chrome",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
        '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
        '"Android"',
        True,
    ),
    Browser(
        "chrome",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
        '"Chromium";v="124", "Microsoft Edge";v="124", "Not-A.Brand";v="99"',
        '"Windows"',
    ),
    Browser(
        "chrome",
        "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
        None,
        None,
        True,
    ),
    Browser(
        "firefox",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0",
    ),
    Browser(
        "firefox",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    Browser(
        "firefox",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:126.0) Gecko/20100101 Firefox/126.0",
    ),
    Browser(
        "safari",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
    ),
    Browser(
        "safari",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
        mobile=True,
    ),
    Browser(
        "safari",
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        mobile=True,
    ),
)

ORDER: dict[str, tuple[str, ...]] = {
    "chrome": (
        "Host",
        "Connection",
        "Content-Length",
        "Cache-Control",
        "sec-ch-ua",
        "sec-ch-ua-mobile",
        "sec-ch-ua-platform",
        "Origin",
        "Content-Type",
        "Upgrade-Insecure-Requests",
        "User-Agent",
        "Accept",
        "*extra*",
        "Sec-Fetch-Site",
        "Sec-Fetch-Mode",
        "Sec-Fetch-User",
        "Sec-Fetch-Dest",
        "Referer",
        "Accept-Encoding",
        "Accept-Language",
        "Cookie",
    ),
    "firefox": (
        "Host",
        "User-Agent",
        "Accept",
        "Accept-Language",
        "Accept-Encoding",
        "*extra*",
        "Content-Type",
        "Content-Length",
        "Origin",
        "Connection",
        "Referer",
        "Cookie",
        "Upgrade-Insecure-Requests",
        "Sec-Fetch-Dest",
        "Sec-Fetch-Mode",
        "Sec-Fetch-Site",
        "Sec-Fetch-User",
        "Priority",
    ),
    "safari": (
        "Host",
        "Content-Type",
        "Origin",
        "Accept-Encoding",
        "Cookie",
        "Connection",
        "Upgrade-Insecure-Requests",
        "Accept",
        "*extra*",
        "User-Agent",
        "Referer",
        "Content-Length",
        "Accept-Language",
        "Sec-Fetch-Site",
        "Sec-Fetch-Mode",
        "Sec-Fetch-Dest",
    ),
}

ACCEPT_DOC = {
    "chrome": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "firefox": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "safari": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}
ACCEPT_ENCODING = {
    "chrome": "gzip, deflate, br, zstd",
    "firefox": "gzip, deflate, br, zstd",
    "safari": "gzip, deflate, br",
}
ACCEPT_JSON = ("application/json, text/plain, */*", "application/json", "*/*", "application/json;charset=utf-8")

ACCEPT_LANGUAGE: dict[str, str] = {
    "en": "en-US,en;q=0.9",
    "en-GB": "en-GB,en;q=0.9",
    "de": "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7",
    "fr": "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7",
    "es": "es-ES,es;q=0.9",
    "pt": "pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7",
    "it": "it-IT,it;q=0.9,en;q=0.8",
    "nl": "nl-NL,nl;q=0.9,en;q=0.8",
    "pl": "pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7",
    "tr": "tr-TR,tr;q=0.9,en-US;q=0.8,en;q=0.7",
    "ru": "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7",
    "uk": "uk-UA,uk;q=0.9,ru;q=0.8,en;q=0.7",
    "el": "el-GR,el;q=0.9,en;q=0.8",
    "ar": "ar-SA,ar;q=0.9,en-US;q=0.8,en;q=0.7",
    "he": "he-IL,he;q=0.9,en-US;q=0.8,en;q=0.7",
    "hi": "hi-IN,hi;q=0.9,en-IN;q=0.8,en;q=0.7",
    "zh": "zh-CN,zh;q=0.9,en;q=0.8",
    "ja": "ja,en-US;q=0.9,en;q=0.8",
    "ko": "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7",
    "vi": "vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7",
    "id": "id-ID,id;q=0.9,en-US;q=0.8,en;q=0.7",
    "da": "da-DK,da;q=0.9,en;q=0.8",
    "sv": "sv-SE,sv;q=0.9,en;q=0.8",
}

# --------------------------------------------------------------------------
# Search queries (all written for Siren)
# --------------------------------------------------------------------------

SEARCH_QUERIES: tuple[str, ...] = (
    # the ones WAFs tend to dislike
    "select all shoes",
    "union station to brooklyn",
    "drop shipping",
    "how to use grep and sed",
    "bash script for loop",
    "C# vs Java",
    "script writing course",
    "alert box css",
    "order by price",
    "rm vs mv linux",
    "1/2 cup sugar",
    "50% off",
    "rock & roll",
    "O'Reilly books",
    "what does 1=1 mean in sql",
    "select a different shipping address",
    "drop down menu not working",
    "union jack cushion cover",
    "delete my account",
    "insert coin arcade bar near me",
    "update iphone to ios 17",
    "foldable table tennis table",
    "executive office chair",
    "sleep mask for side sleepers",
    "gpu benchmark 2024",
    "sleep apnea symptoms",
    "cat 6 ethernet cable 10m",
    "cat food grain free",
    "echo dot 5th gen",
    "men's shell jacket waterproof",
    "wget vs curl",
    "curl post json example",
    "python script to rename files",
    "javascript alert vs confirm",
    "onload event vs DOMContentLoaded",
    "document.getElementById returns null",
    "how to center a div",
    "sql join vs where",
    "sql count distinct",
    "select distinct postgres example",
    "edit hosts file mac",
    "ls -la meaning",
    "chmod 755 vs 644",
    "sudo apt update error",
    "kill process on port 3000",
    "cmd change directory to d drive",
    "powershell get-childitem recursive",
    "xml vs json",
    "br tag vs p tag html",
    "what is a null pointer exception",
    "and/or logic gates",
    "if else in excel",
    "excel sumif multiple criteria",
    "union pacific jobs",
    "european union countries list",
    "select case vba",
    "insert row shortcut excel",
    "dropbox login",
    "null island",
    "true or false quiz",
    "where clause vs having",
    "having a baby checklist",
    "pancakes from scratch",
    "or-tools python",
    "and gate truth table",
    "not equal sign keyboard",
    "waitlist restaurant app",
    "sleep sounds rain",
    "concat strings python",
    "twitter char limit",
    "cast iron skillet care",
    "convert mp4 to gif",
    "ascii table",
    "hex to rgb",
    "base64 decode online",
    "utf-8 vs utf-16",
    "%20 in url meaning",
    "what is &nbsp;",
    "less than or equal symbol",
    "<= vs < in python",
    "a && b vs a and b",
    "|| operator javascript",
    "pipe symbol on german keyboard",
    "grep -r exclude directory",
    "find . -name *.log",
    "tar -xzvf meaning",
    "ssh-keygen ed25519",
    "git reset --hard origin/main",
    "git rebase -i HEAD~3",
    "docker run -p 8080:80",
    "kubectl get pods -n kube-system",
    "nginx location regex",
    "apache .htaccess redirect to https",
    "cat command linux",
    "echo $PATH mac",
    "ping command options windows",
    "whoami command windows",
    "change password linux passwd command",
    "bad interpreter no such file or directory",
    "exec summary template",
    "system of a down tickets",
    "sql server express download",
    "movie script format",
    "javascript for beginners",
    "java script vs typescript",
    "script font generator",
    "shell scripting tutorial",
    "how to delete duplicate rows in excel",
    "select multiple files mac",
    "drop ceiling tiles 2x4",
    "table of contents word",
    "wait for it meme",
    "concatenate cells with comma",
    "admin jobs remote",
    "root beer float recipe",
    "root vegetables roasted",
    "java coffee beans",
    "python snake species",
    "ruby ring gold",
    "shell beach california",
    "kill bill soundtrack",
    "killer sudoku",
    # ordinary shopping, travel, food, life
    "cheap flights lisbon may",
    "weather berlin tomorrow",
    "pizza near me open now",
    "iphone 15 case",
    "men's running shoes size 10.5",
    "women's rain jacket xs",
    "kids' bike 16\"",
    '32" monitor 4k',
    "usb-c to hdmi adapter",
    "best laptop for students 2024",
    "non-stick pan without pfas",
    "gluten-free bread recipe",
    "1/4 tsp to grams",
    "350°f to °c",
    "2 + 2 * 3",
    "5'11\" in cm",
    "vitamin d3 + k2",
    "ben & jerry's cookie dough",
    "m&ms bulk bag",
    "at&t prepaid plans",
    "procter & gamble careers",
    "johnson & johnson baby shampoo",
    "l'oréal paris serum",
    "mcdonald's opening hours sunday",
    "children's books ages 3-5",
    "st. patrick's day decorations",
    "new york -> boston train",
    "flights nyc->lax",
    "c++ vector erase",
    "f# tutorial",
    ".net 8 release date",
    "node.js 20 lts",
    "what is 0.1 + 0.2",
    "100% cotton t-shirt",
    "up to 70% off",
    "buy 2 get 1 free",
    "$20 gift card",
    "€50 voucher",
    "£ to € exchange rate",
    "#1 bestseller",
    "@home furniture",
    "dishwasher safe mugs",
    "hiking boots wide fit",
    "birthday cake ideas for 6 year old",
    "how long to boil an egg",
    "train tickets paris to lyon",
    "hotels near union square sf",
    "car rental lisbon airport",
    "dentist open saturday",
    "yoga mat 6mm",
    "queen size duvet cover",
    "noise cancelling headphones under $200",
    "air fryer chicken thighs",
    "banana bread without eggs",
    "how to tie a tie",
    "how many ounces in a cup",
    "3/4 cup butter in grams",
    "2.5 liters in gallons",
    "tomato seedlings leaves yellow",
    "best time to visit japan",
    "is it going to rain today",
    "coffee grinder burr vs blade",
    "wedding guest dress summer",
    "tax return deadline",
    "passport renewal appointment",
    "how to remove red wine stain",
    "what's the capital of australia",
    "who won the game last night",
    "movies like inception",
    "spanish for beginners app",
    "learn to knit",
    "why is the sky blue",
    "how to write a cover letter",
    "resume template word",
    "dog-friendly cafés berlin",
    "mother's day brunch",
    "halloween costume kids 4-5 years",
    "black friday tv deals",
    "ps5 slim in stock",
    "nintendo switch oled white",
    "size 9 = eu ?",
    "phone case (clear)",
    "[sale] winter boots",
    '"exact phrase" search tips',
    "shoes -heels",
    "laptop stand + keyboard",
    "t-shirt xl/xxl",
    "vegan protein powder unflavored",
    "espresso machine with grinder",
    "replacement filter for brita",
    "lego star wars 75313",
    "ikea billy bookcase white 80x28x202",
    "paint colour grey-green",
    "desk lamp e27",
    # other languages
    "zapatillas running mujer",
    "Kühlschrank ohne Gefrierfach",
    "robe d'été longue",
    "笔记本电脑 轻薄",
    "ノートパソコン 軽量",
    "노트북 추천 2024",
    "смартфон до 20000",
    "deri çanta kadın",
    "بطاقة هدايا",
    "מכונת קפה",
    "चाय का कप",
    "ốp lưng điện thoại",
    "sepatu lari pria",
    "fiets met versnellingen",
    "buty zimowe damskie 38",
    "scarpe da ginnastica bambino",
    "tênis de corrida feminino",
    "κινητό τηλέφωνο",
    "навушники бездротові",
    "Straßenbahn Fahrplan",
    "crème brûlée recette",
    "año nuevo en madrid",
    "caffè d'orzo",
    "pão de queijo receita",
    "Wörterbuch Deutsch–Englisch",
)

VERSUS: tuple[tuple[str, str], ...] = (
    ("python", "java"),
    ("react", "vue"),
    ("mysql", "postgres"),
    ("tea", "coffee"),
    ("kindle", "kobo"),
    ("ssd", "hdd"),
    ("iphone 15", "pixel 8"),
    ("roth ira", "401k"),
    ("espresso", "ristretto"),
    ("rust", "go"),
    ("linux", "windows"),
    ("zsh", "bash"),
    ("yarn", "npm"),
    ("latte", "flat white"),
    ("sqlite", "mysql"),
    ("vim", "emacs"),
    ("union", "union all"),
    ("delete", "truncate"),
)
HOWTO: tuple[tuple[str, str], ...] = (
    ("sort a list", "python"),
    ("merge cells", "excel"),
    ("undo a commit", "git"),
    ("select rows by date", "pandas"),
    ("create a table", "google docs"),
    ("drop a column", "pandas"),
    ("add a signature", "outlook"),
    ("remove background", "gimp"),
    ("insert a page break", "word"),
    ("run a script", "powershell"),
    ("update all packages", "homebrew"),
    ("kill a process", "linux"),
    ("find a file", "terminal"),
    ("join two tables", "sql"),
    ("group by month", "sql"),
    ("execute a stored procedure", "sql server"),
    ("count words", "bash"),
    ("print a variable", "bash"),
)
PHONES: tuple[str, ...] = (
    "+1 (415) 555-0134",
    "+1 212-555-0188",
    "+49 30 12345678",
    "030 / 123 456 78",
    "+44 20 7946 0018",
    "020 7946 0321",
    "+33 6 12 34 56 78",
    "+34 612 345 678",
    "+81 90-1234-5678",
    "+82 10-2345-6789",
    "+91 98765 43210",
    "+55 (11) 91234-5678",
    "+7 (495) 123-45-67",
    "+380 44 123 4567",
    "(03) 9876 5432",
    "555-0199 ext. 42",
)
COLORS = ("BLK", "WHT", "NVY", "RED", "GRN", "GRY", "BEI")

# --------------------------------------------------------------------------
# People, addresses, passwords, prose for forms
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    given: str
    family: str
    full: str
    local: str  # e-mail local part
    country: str  # ISO 3166 code
    lang: str


def _p(given: str, family: str, local: str, cc: str, lang: str, full: str | None = None) -> Person:
    return Person(given, family, full if full is not None else f"{given} {family}", local, cc, lang)


PEOPLE: tuple[Person, ...] = (
    _p("Siobhán", "O'Brien", "siobhan.obrien", "IE", "en-GB"),
    _p("Marco", "D'Angelo", "marco.dangelo", "IT", "it"),
    _p("Jürgen", "Müller", "j.mueller", "DE", "de"),
    _p("José", "García López", "jose.garcia", "ES", "es"),
    _p("芳", "王", "wangfang88", "CN", "zh", "王芳"),
    _p("Ольга", "Иванова", "olga.ivanova", "RU", "ru"),
    _p("Zoë", "Martin", "zoe.martin", "FR", "fr"),
    _p("François", "Lefèvre", "f.lefevre", "FR", "fr"),
    _p("Łukasz", "Wiśniewski", "lukasz.wisniewski", "PL", "pl"),
    _p("Ayşe", "Yılmaz", "ayse.yilmaz", "TR", "tr"),
    _p("Νίκος", "Παπαδόπουλος", "nikos.pap", "GR", "el"),
    _p("محمد", "العلي", "m.alali", "SA", "ar"),
    _p("דנה", "כהן", "dana.cohen", "IL", "he"),
    _p("प्रिया", "शर्मा", "priya.sharma", "IN", "hi"),
    _p("花子", "佐藤", "hanako.sato", "JP", "ja", "佐藤 花子"),
    _p("민준", "김", "minjun.kim", "KR", "ko", "김민준"),
    _p("Hoa", "Nguyễn Thị", "hoa.nguyen", "VN", "vi", "Nguyễn Thị Hoa"),
    _p("Putri", "Wulandari", "putri.w", "ID", "id"),
    _p("Mary-Jane", "Smith-Jones", "mj.smithjones", "GB", "en-GB"),
    _p("Jean-Luc", "Bernard", "jl.bernard", "CA", "fr"),
    _p("Anna", "van der Berg", "anna.vdberg", "NL", "nl"),
    _p("Juan Carlos", "de la Cruz", "jc.delacruz", "MX", "es"),
    _p("João", "Gonçalves", "joao.goncalves", "BR", "pt"),
    _p("Inês", "Sousa", "ines.sousa", "PT", "pt"),
    _p("Seán", "Ó Súilleabháin", "sean.osullivan", "IE", "en-GB"),
    _p("Connor", "MacDonald", "connor.macd", "GB", "en-GB"),
    _p("Ana", "Martins", "ana.martins", "PT", "pt"),
    _p("Chloé", "Dubois-Renard", "chloe.dr", "FR", "fr"),
    _p("Søren", "Østergaard", "soren.ostergaard", "DK", "da"),
    _p("Björn", "Åkesson", "bjorn.akesson", "SE", "sv"),
    _p("Emily", "Nguyen", "emily.nguyen", "US", "en"),
    _p("Tyrone", "Washington", "t.washington", "US", "en"),
    _p("静", "李", "li.jing", "CN", "zh", "李静"),
    _p("Оксана", "Коваленко", "oksana.k", "UA", "uk"),
    _p("Mehmet", "Öztürk", "mehmet.ozturk", "TR", "tr"),
    _p("Giulia", "Rossi", "giulia.rossi", "IT", "it"),
    _p("Katarzyna", "Nowak-Zielińska", "kasia.nowak", "PL", "pl"),
    _p("Ahmed", "Hassan", "ahmed.hassan", "SA", "ar"),
    _p("Yuki", "Tanaka", "yuki.tanaka", "JP", "ja"),
    _p("Aarav", "Patel", "aarav.patel", "IN", "en"),
    _p("Nomvula", "Dlamini", "nomvula.d", "ZA", "en-GB"),
    _p("Kwame", "Mensah", "kwame.mensah", "GB", "en-GB"),
    _p("Maximilian", "von Hohenberg", "max.vh", "AT", "de"),
    _p("Renée", "St. John", "renee.stjohn", "US", "en"),
    _p("Elif", "Şahin", "elif.sahin", "TR", "tr"),
    _p("Thu", "Trần", "thu.tran", "VN", "vi"),
    _p("Rafael", "Nuñez", "rafa.nunez", "MX", "es"),
    _p("Noa", "Levi", "noa.levi", "IL", "he"),
    _p("Leilani", "Kahale", "leilani.k", "US", "en"),
    _p("Patrick", "O'Neill", "pat.oneill", "US", "en"),
    _p("Lucía", "Fernández", "lucia.fdez", "ES", "es"),
    _p("Dmytro", "Shevchuk", "d.shevchuk", "UA", "uk"),
)

COUNTRY_NAMES: dict[str, str] = {
    "US": "United States",
    "GB": "United Kingdom",
    "IE": "Ireland",
    "DE": "Germany",
    "AT": "Austria",
    "CH": "Switzerland",
    "FR": "France",
    "ES": "Spain",
    "MX": "Mexico",
    "BR": "Brazil",
    "PT": "Portugal",
    "IT": "Italy",
    "NL": "Netherlands",
    "PL": "Poland",
    "TR": "Türkiye",
    "RU": "Russia",
    "UA": "Ukraine",
    "GR": "Greece",
    "SA": "Saudi Arabia",
    "IL": "Israel",
    "IN": "India",
    "CN": "China",
    "JP": "Japan",
    "KR": "South Korea",
    "VN": "Vietnam",
    "ID": "Indonesia",
    "CA": "Canada",
    "AU": "Australia",
    "DK": "Denmark",
    "SE": "Sweden",
    "ZA": "South Africa",
    "CI": "Côte d'Ivoire",
}

# (street line 1, line 2, city, postal code, region)
ADDRESSES: dict[str, tuple[tuple[str, str, str, str, str], ...]] = {
    "US": (
        ("1420 Maple Ave", "Apt 3B", "Springfield", "62704", "IL"),
        ("88 O'Connell St", "", "Boston", "02118", "MA"),
        ("2201 N. Lamar Blvd #112", "", "Austin", "78705", "TX"),
        ("5 Harbor View Rd", "c/o Kahale Family", "Honolulu", "96813", "HI"),
    ),
    "GB": (
        ("Flat 2", "17 Cromwell Road", "London", "SW7 4ET", ""),
        ("3 St. Mary's Close", "", "York", "YO1 7HB", "North Yorkshire"),
        ("The Old Bakery, 12 Mill Lane", "", "Bath", "BA1 5AB", ""),
    ),
    "IE": (
        ("12 O'Connell Terrace", "", "Cork", "T12 X8F2", "Co. Cork"),
        ("Apt 7, Dún Laoghaire Court", "", "Dublin", "A96 K2R4", "Co. Dublin"),
    ),
    "DE": (
        ("Hauptstraße 12", "", "Berlin", "10115", ""),
        ("Am Römerhof 3a", "Hinterhaus, 2. OG", "Frankfurt am Main", "60486", "Hessen"),
        ("Königsallee 27", "c/o Müller & Partner", "Düsseldorf", "40212", "NRW"),
    ),
    "AT": (("Mariahilfer Straße 45/7", "", "Wien", "1060", ""),),
    "CH": (("Bahnhofstrasse 9", "", "Zürich", "8001", "ZH"),),
    "FR": (
        ("14, rue de l'Église", "", "Lyon", "69003", ""),
        ("7 allée des Tilleuls", "Bât. B, 3e étage", "Nantes", "44000", ""),
    ),
    "ES": (
        ("C/ Mayor, 23, 2º izq.", "", "Madrid", "28013", "Madrid"),
        ("Avda. de la Constitución 5, bajo", "", "Sevilla", "41001", "Sevilla"),
    ),
    "MX": (("Av. Insurgentes Sur 1602", "Int. 4, Col. Crédito Constructor", "Ciudad de México", "03940", "CDMX"),),
    "BR": (("Rua das Flores, 250", "apto 31, bloco B", "São Paulo", "01310-100", "SP"),),
    "PT": (
        ("Rua Augusta 112, 3º Esq.", "", "Lisboa", "1100-053", ""),
        ("Av. da Boavista, 1800", "Sala 4", "Porto", "4100-119", ""),
    ),
    "IT": (("Via Giuseppe Garibaldi 8", "int. 5", "Torino", "10122", "TO"),),
    "NL": (("Prinsengracht 263-2", "", "Amsterdam", "1016 GV", ""),),
    "PL": (("ul. Długa 12/4", "", "Gdańsk", "80-827", "pomorskie"),),
    "TR": (("Bağdat Cd. No:154 D:6", "Kadıköy", "İstanbul", "34728", ""),),
    "RU": (("ул. Пушкина, д. 10, кв. 5", "", "Москва", "101000", ""),),
    "UA": (("вул. Хрещатик, 22, кв. 14", "", "Київ", "01001", ""),),
    "GR": (("Οδός Ερμού 35", "3ος όροφος", "Αθήνα", "105 63", ""),),
    "SA": (("طريق الملك فهد، مبنى 12", "", "الرياض", "12271", ""),),
    "IL": (("רחוב הרצל 15, דירה 7", "", "תל אביב", "6578001", ""),),
    "IN": (("Flat 402, Sai Residency", "MG Road", "Bengaluru", "560001", "Karnataka"),),
    "CN": (("朝阳区建国路88号", "3号楼 1201室", "北京", "100022", ""),),
    "JP": (("渋谷区神南1-2-3", "サンハイツ201", "東京都", "150-0041", ""),),
    "KR": (("강남구 테헤란로 152", "12층", "서울", "06236", ""),),
    "VN": (("12 Nguyễn Huệ", "Phường Bến Nghé, Quận 1", "TP. Hồ Chí Minh", "700000", ""),),
    "ID": (("Jl. Sudirman No. 45", "RT 02/RW 05", "Jakarta Selatan", "12190", "DKI Jakarta"),),
    "CA": (
        ("#402 - 1250 Robson St", "", "Vancouver", "V6E 1C5", "BC"),
        ("55 rue Saint-Denis, app. 3", "", "Montréal", "H2X 3K8", "QC"),
    ),
    "AU": (("Unit 5/18 Beach Rd", "", "Bondi", "2026", "NSW"),),
    "DK": (("Nørrebrogade 44, 2. tv.", "", "København N", "2200", ""),),
    "SE": (("Drottninggatan 71", "lgh 1102", "Stockholm", "111 36", ""),),
    "ZA": (("14 Long St", "Unit 3", "Cape Town", "8001", "Western Cape"),),
}

PASSWORDS: tuple[str, ...] = (
    "P@ss;word!(2024)",
    "Tr!cky-Horse_77",
    "sunflower&Rain#9",
    "Ma$ter0fK3ys",
    "(Blue)Whale!42",
    "C0ffee:Time?",
    "it'sRaining2day!",
    "Qw3rty^&*()",
    "Grün&Blau-2023",
    "Contraseña#1",
    "пароль2024!",
    "z%8R@k!1pL",
    "long passphrase with spaces!",
    "50%Off@Home",
    "<3Sunsets<3",
    "x=y+1;really",
    "O'Malley#1987",
    "semi;colon:combo",
    "[Bracket]{Curly}7",
    "correct-horse-battery-staple",
    "~tilde`back`tick~",
    "Hello|World|99",
    '"quoted"Pass1',
    "dog&cat&bird=3",
    "S3cure/Slash\\Pass",
)
DELIVERY_NOTES: tuple[str, ...] = (
    "Please deliver after 5 p.m.; the buzzer doesn't work (use the side door).",
    "Leave it with the neighbour at #12 if I'm not home.",
    "Gate code is 4711 — ring twice, I'm on the 3rd floor.",
    "It's a gift, please don't include the invoice in the box!",
    "Fragile: glasses & plates. Thanks :)",
    "Call me 10 min before arrival, the street is one-way.",
    "No delivery on Fridays please (we're at the market).",
    "Parcel box behind the garage, code 1234#",
    "Bitte beim Nachbarn (Erdgeschoss, Schmidt) abgeben.",
    "Merci de laisser le colis chez la gardienne.",
    "Si no estoy, dejadlo en la conserjería.",
    "",
)
CONTACT_MESSAGES: tuple[str, ...] = (
    "Hi, I ordered a blue kettle (order #A-10293) on Monday but received a green one. "
    "Could you send the right colour? Happy to return the other one.",
    "Hello! Do you ship to Canada? If so, roughly how much would shipping be for 2 kg?",
    "I'd like to update the e-mail address on my account; the old one no longer works.",
    'Your website says "in stock" but the checkout says "unavailable". Which is right?',
    "Quick question: is the 50% off code valid on sale items too, or only on full-price ones?",
    "Thank you for the fast refund. The support agent (Maria, I think) was lovely.",
    "Our school would like to book a group visit for 28 pupils + 3 teachers in June. Is there a discount for groups?",
    "The link in your newsletter leads to a 404 page; maybe it's a typo in the URL?",
    "Can I change the delivery address after the order is placed? I'm moving next week.",
    "I was charged twice for the same order. Please check & refund one of the payments.",
    "Where can I find the user manual for the model X200? The one in the box is in Dutch only.",
    "Just wanted to say: best customer service I've had in years. Keep it up!",
    "Is the restaurant wheelchair accessible? My grandmother uses a wheelchair.",
    "We're a small bakery and would like to order 40 boxes per month. Do you offer wholesale prices?",
    "The size chart says M = 38-40 but the M I received is more like a 36. Any advice?",
    "Could you please delete all the data you hold about me (GDPR Art. 17)? Thanks.",
    "Hallo, ich habe meine Bestellung noch nicht erhalten. Können Sie bitte nachsehen?",
    "Bonjour, est-ce que la taille 38 sera bientôt de nouveau disponible ?",
    "Hola, ¿tenéis tienda física en Valencia o sólo venta online?",
    "您好，请问可以开发票吗？",
    "Здравствуйте! Подскажите, когда будет поставка чёрного цвета?",
)
SUBJECTS: tuple[str, ...] = (
    "Wrong item received",
    "Shipping question",
    "Account & login",
    "Refund",
    "Order #A-10293",
    "Question about sizes",
    "Feedback",
    "Group booking",
    "Broken link",
    "Wholesale inquiry",
    "Re: your order",
    "Invoice (VAT) request",
    "Help!!",
    "Partnership / press",
    "Data deletion request",
)
BIOS: tuple[str, ...] = (
    "Coffee, cycling & code. (she/her)",
    "Baker from Lyon; croissants are my love language 🥐",
    "Product designer @ Acme Corp — previously at Globex.",
    "Dad of two; 'weekend carpenter'; amateur astronomer.",
    "Nurse, runner, reader. Trying to finish 52 books this year #52books",
    "I fix bikes and break keyboards.",
    "Teacher (maths & physics). Opinions are my own.",
    "Photographer based in Lisbon 📷 — prints available on request.",
    "Ich koche gern, reise viel und lese zu wenig.",
    "Étudiante en architecture à Nantes.",
    "Amante del café y de los gatos 🐈",
    "Full-stack dev. Python > Java (fight me). Rust on weekends.",
    "Retired, living by the sea, learning Italian one word at a time.",
    "",
)
COMPANIES: tuple[str, ...] = (
    "Smith & Sons Ltd.",
    "Müller GmbH & Co. KG",
    "O'Hara's Pub",
    "Barnes+Noble-ish Books",
    "Café de l'Est",
    "Acme Corp.",
    "Ferretería López S.L.",
    "株式会社サンプル",
    "Studio 54 Design (freelance)",
    "",
)
JOB_TITLES: tuple[str, ...] = (
    "Senior Software Engineer",
    "Head of Sales – EMEA",
    "Nurse (ICU)",
    "Teacher",
    "R&D Manager",
    "Student",
    "Founder/CEO",
    "Chef de partie",
    "Data Analyst II",
    "",
)
PRONOUNS = ("she/her", "he/him", "they/them", "", "")
TIMEZONES = (
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Europe/Istanbul",
    "Asia/Seoul",
    "UTC",
)
CURRENCIES = ("EUR", "USD", "GBP", "JPY", "BRL", "INR", "PLN", "TRY", "CHF")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")

# --------------------------------------------------------------------------
# Prose in twenty languages (reviews, comments, messages)
# --------------------------------------------------------------------------

PROSE: dict[str, tuple[str, ...]] = {
    "en": (
        "Arrived two days early and the packaging was great (no dents at all).",
        "I'd give it five stars if the strap were a bit longer; it's fine for my wrist, though.",
        "Honestly the best coffee grinder I've owned — quiet, consistent, easy to clean.",
        "Customer service replied within an hour & sorted out the wrong size without any fuss.",
        'The label says "hand wash only", so keep that in mind before you buy.',
        "We took it on a week-long camping trip in the rain; it still works perfectly.",
        "My daughter loves it! #birthdaygift 🎁",
        "Not sure about the colour: the photo shows navy, mine is closer to black.",
        "Battery lasts about 9 hours with Wi-Fi on, which matches the description.",
        "Would buy again. 10/10 👍",
        "The instructions were a bit vague (step 4 especially), but assembly took 20 minutes.",
        "Delivery driver was friendly, and the box was left exactly where I asked.",
    ),
    "de": (
        "Die Lieferung kam pünktlich, und die Verpackung war tadellos.",
        "Der Stoff fühlt sich hochwertig an; die Nähte sind allerdings etwas schief.",
        "Ich hätte mir eine ausführlichere Anleitung gewünscht (vor allem für den Aufbau).",
        "Preis & Leistung stimmen – klare Kaufempfehlung!",
        "Mein Mann meinte: „Endlich ein Grill, der nicht wackelt.“",
        "Nach drei Wochen im Einsatz gibt es noch keine Probleme. 👍",
        "Die Größe fällt eher klein aus, also lieber eine Nummer größer bestellen.",
        "Vielen Dank für die schnelle Rückerstattung, der Kundenservice war sehr freundlich.",
        "Schade, dass es das Modell nicht in Dunkelgrün gibt.",
        "Wir waren am Wochenende dort essen: super Schnitzel, nette Bedienung, faire Preise.",
    ),
    "fr": (
        "Livraison rapide et article conforme à la description.",
        "J'ai hésité longtemps avant de l'acheter ; je ne regrette pas du tout !",
        "La couleur est un peu plus foncée que sur la photo (mais c'est joli quand même).",
        "Le service client m'a répondu en moins d'une heure, c'est rare.",
        "Mon fils l'utilise tous les jours pour l'école & il en est ravi.",
        "Seul bémol : la notice n'est qu'en anglais.",
        "« Simple, efficace, solide » — voilà comment je le résumerais.",
        "Je recommande vivement ce restaurant, surtout la terrasse en été ☀️",
        "Est-ce que quelqu'un sait si la batterie est remplaçable ?",
        "Très bon rapport qualité/prix. #bonplan",
    ),
    "es": (
        "El pedido llegó antes de lo previsto y en perfecto estado.",
        "¿Alguien sabe si es compatible con el modelo del año pasado?",
        "La talla es un poco pequeña; pedid una más grande.",
        "¡Me encanta! Lo uso todos los días para ir al trabajo.",
        "El hotel estaba limpio, el personal fue muy amable y el desayuno (incluido) era excelente.",
        "Tuve un problema con la factura, pero lo resolvieron enseguida.",
        "Relación calidad-precio inmejorable. #recomendado",
        'Mi abuela dice que es "la mejor olla que ha tenido nunca".',
        "Le pongo cuatro estrellas porque el envío tardó una semana.",
        "Gracias por el trato tan cercano 😊",
    ),
    "pt": (
        "Chegou bem embalado e dentro do prazo.",
        "A bateria dura o dia inteiro, mesmo usando bastante o GPS.",
        "Achei o preço um pouco alto, mas a qualidade compensa.",
        "Atendimento nota dez! Trocaram o produto sem complicação.",
        "O quarto tinha vista para o mar (pedimos na reserva) e a cama era muito confortável.",
        "Só não dou cinco estrelas porque o manual é confuso.",
        "Comprei para a minha mãe e ela adorou 😍",
        "Alguém sabe se serve no modelo 2022?",
        "Recomendo a todos que procuram algo prático & bonito.",
    ),
    "it": (
        "Prodotto arrivato in perfette condizioni, consegna velocissima.",
        "La pizza era buonissima, ma il servizio un po' lento (era sabato sera).",
        "Ho già consigliato questo negozio a tutti i miei amici!",
        "Il colore è esattamente come in foto; la taglia invece è un po' abbondante.",
        "Unico difetto: il cavo è troppo corto.",
        "Perché non avete la spedizione gratuita sopra i 50 €?",
        "Ottimo rapporto qualità/prezzo, lo ricomprerei.",
        "Grazie mille per l'assistenza, siete stati gentilissimi 🙏",
    ),
    "nl": (
        "Snel geleverd en netjes verpakt.",
        "De schoenen zitten meteen lekker, geen inloopperiode nodig.",
        "Jammer dat de handleiding alleen in het Engels is.",
        "We hebben een heerlijk weekend gehad; het ontbijt was top!",
        "Klantenservice reageerde binnen een dag & loste alles op.",
        "Past het ook op een fiets met een dikkere stuurpen?",
        "Prijs-kwaliteitverhouding is prima (zeker in de aanbieding).",
        "Aanrader voor iedereen die veel thuiswerkt.",
    ),
    "pl": (
        "Przesyłka dotarła szybko, wszystko w porządku.",
        "Materiał jest miękki i przyjemny w dotyku; polecam!",
        "Rozmiar zgodny z tabelą, ale rękawy są trochę za długie.",
        "Obsługa klienta bardzo pomocna – wymiana bez problemów.",
        "Czy ten model jest wodoodporny?",
        "Jedyny minus: głośno pracuje w nocy.",
        "Kupiłam na prezent dla siostry i jest zachwycona 😊",
        "Stosunek jakości do ceny – świetny.",
    ),
    "tr": (
        "Ürün çok hızlı geldi, paketleme de özenliydi.",
        "Kumaşı kaliteli ama beden biraz dar kalıp.",
        "Satıcıya teşekkürler, sorularıma hemen cevap verdi.",
        "Fiyatına göre gayet başarılı bir ürün.",
        "Otel merkeze yakın; kahvaltı ise harikaydı!",
        "Şarj süresi biraz uzun (yaklaşık 3 saat).",
        "Annem çok beğendi, tekrar sipariş vereceğim.",
        "Bu modelin siyah rengi ne zaman stoklara girer?",
    ),
    "ru": (
        "Заказ пришёл быстро, упаковка целая.",
        "Качество отличное, но размер маломерит — берите на размер больше.",
        "Пользуюсь уже месяц, никаких нареканий.",
        "Спасибо продавцу за оперативный ответ!",
        "Единственный минус: инструкция только на английском.",
        "Купила маме в подарок, ей очень понравилось 😊",
        "Подскажите, подходит ли этот чехол к модели 2023 года?",
        "Цена/качество — на высоте; рекомендую.",
    ),
    "uk": (
        "Замовлення прийшло вчасно, все ціле.",
        "Дуже зручне взуття: ходжу цілий день, і ноги не втомлюються.",
        "Колір трохи відрізняється від фото, але це не критично.",
        "Дякую за швидку доставку та ввічливе обслуговування!",
        "Чи є цей товар у більшому розмірі?",
        "Смак кави чудовий; купуватиму ще.",
        "Єдине зауваження — коробка була трохи пом'ята.",
        "Рекомендую всім, хто шукає якісну річ за розумні гроші.",
    ),
    "el": (
        "Το προϊόν έφτασε γρήγορα και σε άριστη κατάσταση.",
        "Πολύ καλή ποιότητα για την τιμή του.",
        "Το ξενοδοχείο ήταν καθαρό και το προσωπικό πολύ φιλικό.",
        "Μοναδικό μειονέκτημα: η μπαταρία δεν κρατάει πολύ.",
        "Θα το πρότεινα ανεπιφύλακτα σε φίλους!",
        "Υπάρχει διαθέσιμο και σε μαύρο χρώμα;",
        "Ευχαριστώ για την άμεση εξυπηρέτηση 🙂",
        "Το μέγεθος είναι λίγο μικρό, παραγγείλτε ένα νούμερο μεγαλύτερο.",
    ),
    "ar": (
        "وصل الطلب بسرعة والتغليف ممتاز.",
        "جودة المنتج رائعة مقارنة بالسعر.",
        "خدمة العملاء كانت متعاونة جداً وحلّوا المشكلة بسرعة.",
        "المقاس أصغر قليلاً من المتوقع، أنصح بطلب مقاس أكبر.",
        "هل يتوفر هذا المنتج باللون الأسود؟",
        "الفندق قريب من البحر، والإفطار كان لذيذاً.",
        "شكراً جزيلاً على التوصيل في الموعد 🌟",
        "استخدمته لمدة شهر ولم تظهر أي مشكلة.",
    ),
    "he": (
        "המשלוח הגיע מהר והאריזה הייתה מצוינת.",
        "איכות מעולה ביחס למחיר.",
        "השירות היה אדיב ומהיר, תודה רבה!",
        "המידה קצת קטנה, כדאי להזמין מידה אחת גדולה יותר.",
        "האם המוצר מתאים גם לדגם הישן?",
        "אכלנו שם ארוחת ערב משפחתית; האוכל היה טעים מאוד.",
        "ממליצה בחום 👍",
        "הסוללה מחזיקה בערך יום שלם.",
    ),
    "hi": (
        "सामान समय पर पहुँचा और पैकिंग भी अच्छी थी।",
        "कीमत के हिसाब से गुणवत्ता बहुत बढ़िया है।",
        "ग्राहक सेवा ने मेरी समस्या तुरंत हल कर दी, धन्यवाद!",
        "साइज़ थोड़ा छोटा है, एक साइज़ बड़ा मँगवाएँ।",
        "क्या यह मॉडल काले रंग में भी उपलब्ध है?",
        "होटल साफ़-सुथरा था और स्टाफ़ बहुत विनम्र था।",
        "मेरी माँ को यह तोहफ़ा बहुत पसंद आया 😊",
        "बैटरी पूरे दिन चलती है।",
    ),
    "zh": (
        "物流很快，包装也很结实。",
        "质量不错，和描述的一样，值得购买！",
        "客服态度很好，耐心解答了我的问题。",
        "尺码偏小，建议买大一号。",
        "请问这款有没有黑色的？",
        "酒店离地铁站很近（步行五分钟），早餐也很丰富。",
        "已经用了一个月了，没有任何问题👍",
        "性价比很高，会推荐给朋友。",
    ),
    "ja": (
        "注文から二日で届きました。梱包も丁寧でした。",
        "思っていたより小さかったですが、使いやすいです。",
        "色は写真とほぼ同じで、とても気に入っています！",
        "サポートの対応が早くて助かりました。",
        "この商品は食洗機で洗えますか？",
        "ホテルのスタッフがとても親切で、また泊まりたいと思いました。",
        "コスパ最高です（セール中に購入）。",
        "子どもの誕生日プレゼントに買いました🎂",
    ),
    "ko": (
        "배송이 정말 빨라요. 포장도 꼼꼼했습니다.",
        "가격 대비 품질이 아주 좋아요!",
        "사이즈가 조금 작게 나왔으니 한 치수 크게 주문하세요.",
        "고객센터 응대가 친절해서 좋았습니다.",
        "이 제품 검은색도 있나요?",
        "한 달째 사용 중인데 문제없이 잘 작동합니다.",
        "부모님 선물로 샀는데 너무 좋아하세요 😊",
        "재구매 의사 있습니다.",
    ),
    "vi": (
        "Hàng giao nhanh, đóng gói cẩn thận.",
        "Chất lượng tốt so với giá tiền.",
        "Shop tư vấn nhiệt tình, sẽ ủng hộ tiếp!",
        "Size hơi nhỏ, mọi người nên đặt lớn hơn một size.",
        "Sản phẩm này có màu đen không ạ?",
        "Khách sạn sạch sẽ, nhân viên thân thiện và bữa sáng rất ngon.",
        "Dùng được một tháng rồi, chưa thấy lỗi gì 👍",
        "Mình mua tặng mẹ, mẹ rất thích.",
    ),
    "id": (
        "Barang sampai dengan cepat dan dikemas rapi.",
        "Kualitasnya bagus untuk harga segini.",
        "Penjual ramah & responsif, terima kasih!",
        "Ukurannya agak kecil, sebaiknya pesan satu ukuran lebih besar.",
        "Apakah produk ini tersedia dalam warna hitam?",
        "Hotelnya bersih, dekat pantai, dan sarapannya enak sekali.",
        "Sudah dipakai sebulan, tidak ada masalah sama sekali.",
        "Pasti beli lagi di sini 😊",
    ),
}
PROSE_TITLES: dict[str, tuple[str, ...]] = {
    "en": ("Great value", "Good, not perfect", "Love it!"),
    "de": ("Sehr zufrieden", "Gut, aber…", "Top!"),
    "fr": ("Très bien", "Bon produit, mais…", "Parfait !"),
    "es": ("Muy recomendable", "Bien, pero mejorable", "¡Genial!"),
    "pt": ("Recomendo", "Bom, mas…", "Perfeito!"),
    "it": ("Ottimo acquisto", "Buono, ma…", "Consigliato"),
    "nl": ("Top!", "Prima, maar…", "Aanrader"),
    "pl": ("Polecam", "Dobre, ale…", "Super!"),
    "tr": ("Tavsiye ederim", "İdare eder", "Harika!"),
    "ru": ("Отличный товар", "Неплохо, но…", "Советую!"),
    "uk": ("Рекомендую", "Непогано", "Чудово!"),
    "el": ("Εξαιρετικό", "Καλό, αλλά…", "Το προτείνω"),
    "ar": ("منتج ممتاز", "جيد ولكن…", "أنصح به"),
    "he": ("מומלץ", "טוב, אבל…", "מעולה!"),
    "hi": ("बहुत बढ़िया", "ठीक-ठाक", "शानदार!"),
    "zh": ("非常满意", "还可以", "推荐！"),
    "ja": ("大満足です", "まあまあ", "おすすめ！"),
    "ko": ("만족해요", "보통이에요", "강추!"),
    "vi": ("Rất hài lòng", "Tạm ổn", "Tuyệt vời!"),
    "id": ("Mantap", "Lumayan", "Recommended!"),
}
HASHTAGS = ("#review", "#sale", "#homeoffice", "#travel", "#foodie", "#gift", "#2024", "#happycustomer")
EMOJI = ("😊", "👍", "🎉", "❤️", "☕", "🙂", "✨", "🚲", "🌧️", "👌🏽")

# --------------------------------------------------------------------------
# Developer content
# --------------------------------------------------------------------------

STACK_TRACES: tuple[str, ...] = (
    "Traceback (most recent call last):\n"
    '  File "/home/ana/projects/shop/src/app/main.py", line 88, in create_order\n'
    "    total = sum(item.price * item.qty for item in cart.items)\n"
    '  File "/home/ana/projects/shop/src/app/models.py", line 41, in price\n'
    "    return Decimal(self._price) / 100\n"
    "decimal.InvalidOperation: [<class 'decimal.ConversionSyntax'>]",
    'java.lang.NullPointerException: Cannot invoke "com.example.shop.Customer.getEmail()" because '
    '"order.customer" is null\n'
    "\tat com.example.shop.OrderService.sendReceipt(OrderService.java:142)\n"
    "\tat com.example.shop.OrderController.checkout(OrderController.java:67)\n"
    "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)",
    "TypeError: Cannot read properties of undefined (reading 'map')\n"
    "    at ProductList (ProductList.jsx:23:19)\n"
    "    at renderWithHooks (react-dom.development.js:16305:18)\n"
    "    at mountIndeterminateComponent (react-dom.development.js:20074:13)",
    "panic: runtime error: index out of range [3] with length 3\n\n"
    "goroutine 1 [running]:\n"
    "main.parseLine({0xc000012345, 0x1f})\n"
    "\t/Users/kenji/dev/csvtool/main.go:54 +0x1d4\n"
    "main.main()\n"
    "\t/Users/kenji/dev/csvtool/main.go:23 +0x8c\n"
    "exit status 2",
    "NoMethodError: undefined method `name' for nil:NilClass\n"
    "  app/views/orders/show.html.erb:12:in `block in _app_views_orders_show_html_erb'\n"
    "  app/views/orders/show.html.erb:9:in `each'",
    "System.IO.FileNotFoundException: Could not find file 'C:\\Users\\ana\\Documents\\report.docx'.\n"
    "   at System.IO.FileStream.ValidateFileHandle(SafeFileHandle fileHandle)\n"
    "   at ReportTool.Exporter.Load(String path) in C:\\src\\ReportTool\\Exporter.cs:line 31",
    "thread 'main' panicked at src/config.rs:27:10:\n"
    'called `Result::unwrap()` on an `Err` value: Os { code: 2, kind: NotFound, message: "No such file or directory" }\n'
    "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
    'PHP Warning:  Undefined array key "email" in /var/www/shop/public/checkout.php on line 58',
    'psycopg.errors.UniqueViolation: duplicate key value violates unique constraint "users_email_key"\n'
    "DETAIL:  Key (email)=(jose.garcia@example.com) already exists.",
    "Error: listen EADDRINUSE: address already in use :::3000\n"
    "    at Server.setupListenHandle [as _listen2] (node:net:1872:16)\n"
    "    at listenInCluster (node:net:1920:12)",
)
ENVIRONMENTS: tuple[str, ...] = (
    "- OS: Windows 11 23H2 (build 22631.3527)\n- Browser: Chrome 124.0.6367.207\n- App version: 2.14.1",
    "- macOS 14.4.1 (23E224)\n- Safari 17.4.1\n- Siren 0.3.1",
    "- Ubuntu 22.04.4 LTS\n- Python 3.11.9, Django 5.0.6\n- PostgreSQL 16.2",
    "- node v20.12.2 / npm 10.5.0\n- react 18.3.1, vite 5.2.11",
    "- Android 14 (Pixel 7a), app 3.2.0 (build 412)",
    "- iOS 17.5 on iPhone 13 mini\n- App 3.1.9 (TestFlight)",
    "- Debian 12, nginx/1.25.3, php-fpm 8.2.18",
    "- Go 1.22.3 on linux/amd64",
)
BUG_TITLES: tuple[str, ...] = (
    "Checkout fails when the cart contains a gift card",
    "Crash on startup after updating to 2.14.1",
    "Export to CSV drops rows with a comma in the name",
    "Date picker shows wrong month in Safari",
    "Search returns nothing for queries with an apostrophe (e.g. O'Reilly)",
    "Receipt e-mail not sent for guest orders",
    "Dark mode: text in the sidebar is unreadable",
    'Upload of report.docx fails with "file not found"',
    "App freezes when switching language to Arabic (RTL)",
    "Port 3000 already in use after hot reload",
    'Duplicate user created when double-clicking "Sign up"',
    "Typo in the German translation of the settings page",
)
BUG_STEPS: tuple[str, ...] = (
    '1. Add any product to the cart\n2. Apply a gift card at checkout\n3. Click "Pay now"',
    "1. Open Settings > Language\n2. Choose العربية\n3. Go back to the home screen",
    '1. Go to Reports\n2. Select "Last 30 days"\n3. Click Export > CSV',
    "1. Log in as a guest\n2. Place an order\n3. Check the inbox (and spam folder)",
    "1. Run `npm run dev`\n2. Edit src/app/main.tsx and save\n3. Watch the terminal",
    "1. Open the upload dialog\n2. Pick C:\\Users\\ana\\Documents\\report.docx\n3. Press Upload",
)
CODE_NOTES: tuple[str, ...] = (
    "Our nightly report got slow after the migration. The query is:\n\n```sql\n"
    "SELECT c.id, c.name, COUNT(o.id) AS order_count\nFROM customers c\n"
    "LEFT JOIN orders o ON o.customer_id = c.id\nGROUP BY c.id, c.name\n"
    "ORDER BY order_count DESC\nLIMIT 50;\n```\n\n"
    "EXPLAIN shows a sequential scan on `orders`. Should we add an index on (customer_id, created_at)?",
    "Small reminder for reviewers: please don't DROP the old `legacy_prices` column in this PR. "
    "We'll delete it in a follow-up once the backfill has finished, and only after the UPDATE job "
    "has run on all shards.",
    "You can sort the table by several columns; it works like ORDER BY in SQL, so "
    "`sort=price,-rating` means cheapest first and, for equal prices, best rated first.",
    "The migration adds a nullable column first, then backfills in batches of 10k rows, then sets NOT NULL. "
    "Doing it in one ALTER TABLE locked `orders` for 40 s on staging.",
    "Tip for the docs: to see what the ORM generates, set `echo=True` on the engine. "
    "You'll get the SELECT/INSERT statements in the log, including the bound parameters.",
    "Here's the loop I use to count lines in all CSV exports:\n\n```bash\n"
    'for f in exports/*.csv; do\n  wc -l "$f"\ndone\n```\n\nWorks in bash and zsh.',
    'To find leftover TODOs before a release:\n\n```bash\ngrep -rn "TODO" src/ | sort | uniq -c | sort -rn | head\n```',
    "Python 3.12 changed how `datetime.utcnow()` is treated (it's deprecated). Replace it with:\n\n```python\n"
    "from datetime import datetime, timezone\n\nnow = datetime.now(timezone.utc)\n```",
    "We store prices as integer cents. Never use float for money:\n\n```python\n>>> 0.1 + 0.2\n0.30000000000000004\n```",
    "Repro for the rounding bug:\n\n```js\nconst total = items.reduce((sum, i) => sum + i.price * i.qty, 0);\n"
    "console.log(total.toFixed(2)); // prints 19.99 instead of 20.00\n```",
    "The report query joins three tables and filters on status:\n\n```sql\n"
    "SELECT o.id, o.total, s.name AS shop\nFROM orders o\nJOIN shops s ON s.id = o.shop_id\n"
    "WHERE o.status = 'paid' AND o.created_at >= DATE '2024-01-01'\nORDER BY o.created_at DESC;\n```\n\n"
    "Runs in 12 ms with the new index.",
    "Could we rename `select_all()` to `select_every_row()`? Every time someone greps for SELECT "
    "they land in that helper instead of the actual queries.",
    "Heads-up: `rm -rf node_modules && npm ci` fixed the build for me; the lockfile was out of date.",
    "Java generics question: why does `Map<String, List<Order>>` need the explicit type on the "
    "right-hand side in Java 8 but not in Java 11?",
    "Diff of the fix:\n\n```diff\n--- a/src/app/main.py\n+++ b/src/app/main.py\n@@ -85,3 +85,3 @@\n"
    "-    total = sum(item.price * item.qty for item in cart.items)\n"
    "+    total = sum((item.price * item.qty for item in cart.items), Decimal(0))\n```",
)
FILE_PATHS: tuple[str, ...] = (
    "src/app/main.py",
    "tests/test_orders.py",
    "C:\\Users\\ana\\Documents\\report.docx",
    "D:\\Projects\\Invoices\\2024\\march.xlsx",
    "~/Library/Application Support/Code/User/settings.json",
    "/home/kenji/dev/csvtool/main.go",
    "/Users/sam/Downloads/export (3).csv",
    "docs/getting-started.md",
    "\\\\fileserver\\shared\\Design\\logo-final-v2.svg",
    "assets/img/hero@2x.webp",
    "config/locales/de.yml",
    "/var/log/nginx/access.log",
    "packages/ui/src/Button.tsx",
    "%APPDATA%\\MyApp\\config.ini",
)
VERSIONS: tuple[str, ...] = (
    "Python 3.11.9",
    "Django 5.0.6",
    "node v20.12.2",
    "npm 10.5.0",
    "PostgreSQL 16.2",
    "nginx/1.25.3",
    "Chrome 124.0.6367.207",
    "Firefox 126.0",
    "Windows 11 23H2",
    "macOS 14.4.1 (23E224)",
    "v2.14.1-rc.2",
    "1.4.0+build.7",
    "^1.4.0 || ~2.0.3",
    ">=3.9,<3.13",
    "openssl 3.0.13",
    "kernel 6.5.0-35-generic",
)
CRONS: tuple[str, ...] = (
    "*/15 * * * *",
    "0 3 * * 1-5",
    "*/10 8-18 * * *",
    "30 2 1 * *",
    "@daily",
    "0 0 * * 0",
    "5 4 * * sun",
)
REGEXES: tuple[str, ...] = (
    r"^[A-Z]{2,5}-\d+$",
    r".*@(example|example-corp)\.com$",
    r"^\+?[0-9 ()-]{7,20}$",
    r"(?i)invoice\s+#?\d+",
    r"^(feat|fix|docs|chore)(\(\w+\))?: .{1,72}$",
    r"\b\d{4}-\d{2}-\d{2}\b",
    r"^[a-z0-9_-]{3,16}$",
    r"[A-Za-z]+://[^\s/]+",
    r"^release/\d+\.\d+$",
    r"\.(jpe?g|png|webp)$",
)
GLOBS: tuple[str, ...] = (
    "node_modules/\ndist/\n*.min.js",
    "**/*.test.ts",
    "build/\n.cache/\ncoverage/",
    "*.log\n*.tmp",
    "vendor/**",
)
LOG_MESSAGES: tuple[str, ...] = (
    "order {n} paid (amount={amt} EUR, psp=stripe)",
    "GET /api/v1/items?page={p} 200 {ms}ms",
    "cache miss for key product:{n}:de-DE",
    "retrying webhook delivery to https://localhost/hooks/orders (attempt {p}/5)",
    "user {n} logged in from 203.0.113.{p}",
    "slow query ({ms} ms): SELECT * FROM products WHERE category_id = ${p} ORDER BY created_at DESC LIMIT 24",
    "scheduled job cleanup_sessions finished: deleted {n} rows",
    "worker-{p} heartbeat ok, queue depth {n}",
    "upstream timed out (110: Connection timed out) while reading response header",
    "deprecated setting USE_L10N will be removed in Django 5.0",
)
LOG_LEVELS = ("INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR")

# --------------------------------------------------------------------------
# Rich text (what a WYSIWYG editor posts)
# --------------------------------------------------------------------------

HTML_BLOCKS: tuple[str, ...] = (
    "<p>Hi team,</p>",
    "<p>Quick update on the <b>spring campaign</b>: the landing page is live at "
    '<a href="https://www.example.com/spring" target="_blank" rel="noopener noreferrer">example.com/spring</a>.</p>',
    "<ul><li>Fix the footer links</li><li>Translate the FAQ into <em>Spanish</em></li><li>Order new business cards</li></ul>",
    "<h2>Ingredients</h2><ol><li>2 cups flour</li><li>1/2 cup sugar</li><li>3 eggs</li></ol>",
    "<blockquote><p>Best purchase this year. Would recommend to anyone.</p></blockquote>",
    '<p style="text-align: center;"><strong>Opening hours</strong><br>Mon&ndash;Fri 9:00&ndash;18:00<br>Sat 10:00&ndash;14:00</p>',
    "<p>Tom &amp; Jerry&nbsp;&mdash; see you at 5.</p>",
    '<p><span style="color: rgb(230, 0, 0);">Important:</span> please bring your ID and booking number.</p>',
    '<p><img src="https://cdn.example.com/uploads/2024/05/team-photo.jpg" alt="Team photo" width="600"></p>',
    "<table><tbody><tr><td>Size</td><td>EU 42</td></tr><tr><td>Colour</td><td>Navy</td></tr></tbody></table>",
    "<p><u>Note</u>: the office is closed on Friday (public holiday).</p>",
    "<pre><code>npm install --save-dev prettier</code></pre>",
    '<p>Contact us at <a href="mailto:support@example.com">support@example.com</a> or call +1 (415) 555-0134.</p>',
    "<h3>What's new in 2.14</h3><ul><li>Faster search</li><li>Dark mode (finally!)</li></ul>",
    "<p>Thanks for your order, <i>Siobhán</i>! Your parcel is on its way.</p>",
    '<p>Read the full story on <a href="https://blog.example.com/2024/04/our-new-roastery">our blog</a>.</p>',
    "<p>Liebe Grüße aus Köln &ndash; und bis bald!</p>",
    "<p>Prix&nbsp;: 49,90&nbsp;€ TTC<br>Livraison offerte dès 60&nbsp;€</p>",
    '<ol start="3"><li>Preheat the oven to 180 &deg;C.</li><li>Bake for 25&ndash;30 minutes.</li></ol>',
    "<p><strong>Agenda</strong></p><ol><li>Budget Q3</li><li>Hiring</li><li>AOB</li></ol>",
    '<figure><img src="https://cdn.example.com/p/88-1402-blk/main.webp" alt="Black sneaker, side view"><figcaption>Model 88-1402</figcaption></figure>',
    "<p>Step 1: open <code>Settings &gt; Privacy</code>.<br>Step 2: turn on <em>Two-factor authentication</em>.</p>",
    "<p>5 &lt; 7 and 9 &gt; 3 &mdash; simple maths for the kids' worksheet.</p>",
    "<hr><p><small>You receive this e-mail because you subscribed at example.com.</small></p>",
    '<p><a href="https://localhost/account/orders">View your orders</a> &middot; <a href="https://localhost/help">Help centre</a></p>',
)


# --------------------------------------------------------------------------
# Small encoding helpers
# --------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def enc_value(value: str, style: str) -> str:
    """Encode one query/form value: ``plus`` (space -> +) or ``pct`` (space -> %20)."""
    return quote_plus(value, safe="") if style == "plus" else quote(value, safe="")


def enc_query(params: Sequence[tuple[str, str]], style: str, raw_keys: bool = False, safe: str = "") -> str:
    parts = []
    for key, value in params:
        k = key if raw_keys else quote(key, safe="")
        v = quote_plus(value, safe=safe) if style == "plus" else quote(value, safe=safe)
        parts.append(f"{k}={v}")
    return "&".join(parts)


def crlf(text: str) -> str:
    """Textarea newlines as browsers submit them."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "item"


# --------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------


class Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.records: list[Record] = []
        self.seen: set[str] = set()
        self.base_time = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

    # ---- random helpers -------------------------------------------------
    def pick(self, seq: Sequence[T]) -> T:
        return seq[self.rng.randrange(len(seq))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def weighted(self, table: Sequence[tuple[T, int]]) -> T:
        return self.rng.choices([t for t, _ in table], weights=[w for _, w in table])[0]

    def hexs(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def alnum(self, n: int) -> str:
        return "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def when(self, days: int = 300) -> dt.datetime:
        return self.base_time + dt.timedelta(seconds=self.rng.randrange(days * 86400))

    def iso(self, days: int = 300) -> str:
        t = self.when(days)
        if self.chance(0.5):
            return t.strftime("%Y-%m-%dT%H:%M:%SZ")
        return t.astimezone(dt.timezone(dt.timedelta(hours=self.pick((2, 1, -5, 9, 5.5))))).isoformat(timespec="seconds")

    def date(self) -> str:
        return self.when(365).date().isoformat()

    def birthdate(self) -> str:
        d = dt.date(1950, 1, 1) + dt.timedelta(days=self.rng.randrange(365 * 55))
        fmt = self.pick(("%Y-%m-%d", "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y"))
        return d.strftime(fmt)

    def price(self) -> str:
        return f"{self.rng.randrange(1, 400)}.{self.pick(('00', '49', '90', '95', '99'))}"

    def jwt(self) -> str:
        iat = int(self.when().timestamp())
        head = b64url(json.dumps({"alg": self.pick(("HS256", "RS256")), "typ": "JWT"}, separators=(",", ":")).encode())
        body = {
            "sub": str(self.rng.randrange(1000, 99999)),
            "iat": iat,
            "exp": iat + 3600,
            "scope": self.pick(("orders:read profile", "openid email", "cart")),
        }
        return f"{head}.{b64url(json.dumps(body, separators=(',', ':')).encode())}.{b64url(self.rng.randbytes(32))}"

    def tiny_png(self) -> str:
        w, h = self.rng.randrange(2, 6), self.rng.randrange(2, 6)
        base = [self.rng.randrange(256) for _ in range(3)]
        rows = b"".join(b"\x00" + bytes(min(255, base[c] + 8 * (x + y)) for x in range(w) for c in range(3)) for y in range(h))

        def chunk(tag: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

        png = (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b"")
        )
        return base64.b64encode(png).decode("ascii")

    def csrf(self) -> str:
        return base64.b64encode(self.rng.randbytes(32)).decode("ascii")

    def email(self, person: Person) -> str:
        local = person.local
        if self.chance(0.12):
            local += "+" + self.pick(("shop", "news", "2024", "orders"))
        return f"{local}@{self.pick(EMAIL_DOMAINS)}"

    def session_cookie(self) -> str:
        parts = [f"sid={self.hexs(32)}"]
        if self.chance(0.6):
            parts.append(f"csrftoken={self.alnum(32)}")
        if self.chance(0.5):
            parts.append(f"_ga=GA1.1.{self.rng.randrange(10**8, 10**9)}.{int(self.when().timestamp())}")
        if self.chance(0.25):
            parts.append(f"theme={self.pick(('dark', 'light'))}")
        if self.chance(0.2):
            parts.append(
                "cookie_consent="
                + quote(json.dumps({"necessary": True, "analytics": self.chance(0.5)}, separators=(",", ":")), safe="")
            )
        return "; ".join(parts)

    # ---- headers --------------------------------------------------------
    def headers(
        self,
        *,
        mode: str,
        method: str,
        body: str | None = None,
        content_type: str | None = None,
        referer: str | None = None,
        cookie: str | None = None,
        lang: str = "en",
        accept: str | None = None,
        dest: str = "empty",
        fetch_site: str = "same-origin",
        extra: Pairs | None = None,
        browser: Browser | None = None,
    ) -> list[list[str]]:
        b = browser or self.pick(BROWSERS)
        h: dict[str, str] = {"Host": "localhost", "User-Agent": b.ua, "Connection": "keep-alive"}
        h["Accept-Encoding"] = ACCEPT_ENCODING[b.family]
        h["Accept-Language"] = ACCEPT_LANGUAGE.get(lang, ACCEPT_LANGUAGE["en"])
        if b.ch_ua:
            h["sec-ch-ua"] = b.ch_ua
            h["sec-ch-ua-mobile"] = "?1" if b.mobile else "?0"
            h["sec-ch-ua-platform"] = b.platform or '"Unknown"'
        has_body = body is not None
        if mode == "document":
            h["Accept"] = accept or ACCEPT_DOC[b.family]
            h["Upgrade-Insecure-Requests"] = "1"
            h["Sec-Fetch-Site"] = fetch_site
            h["Sec-Fetch-Mode"] = "navigate"
            h["Sec-Fetch-User"] = "?1"
            h["Sec-Fetch-Dest"] = "document"
            if b.family == "firefox":
                h["Priority"] = "u=0, i"
            if has_body and b.family == "chrome" and self.chance(0.7):
                h["Cache-Control"] = "max-age=0"
        elif mode == "xhr":
            h["Accept"] = accept or self.pick(ACCEPT_JSON)
            h["Sec-Fetch-Site"] = "same-origin"
            h["Sec-Fetch-Mode"] = "cors"
            h["Sec-Fetch-Dest"] = "empty"
        else:  # asset
            h["Accept"] = accept or "*/*"
            h["Sec-Fetch-Site"] = "same-origin"
            h["Sec-Fetch-Mode"] = "no-cors" if dest in ("image", "style", "script") else "cors"
            h["Sec-Fetch-Dest"] = dest
        if has_body or method not in ("GET", "HEAD"):
            h["Origin"] = ORIGIN
        if content_type:
            h["Content-Type"] = content_type
        if has_body:
            assert body is not None
            h["Content-Length"] = str(len(body.encode("utf-8")))
        if referer:
            h["Referer"] = referer
        if cookie:
            h["Cookie"] = cookie
        out: list[list[str]] = []
        for name in ORDER[b.family]:
            if name == "*extra*":
                out.extend([k, v] for k, v in (extra or []))
            elif name in h:
                out.append([name, h[name]])
        return out

    # ---- adding records -------------------------------------------------
    def add(
        self,
        kind: str,
        placement: str,
        method: str,
        target: str,
        headers: list[list[str]],
        body: str | None,
        payload: str,
        **meta: Any,
    ) -> bool:
        key = f"{placement} {method} {target}\n{body or ''}\n{payload}"
        if key in self.seen:
            return False
        self.seen.add(key)
        rec: Record = {
            "id": f"{SOURCE}-{len(self.records) + 1}",
            "source": SOURCE,
            "label": "benign",
            "category": "benign",
            "method": method,
            "target": target,
            "headers": headers,
        }
        if body is not None:
            rec["body"] = body
        rec["payload"] = payload
        rec["meta"] = {"kind": kind, "placement": placement, **meta}
        self.records.append(rec)
        return True

    def send_query(
        self,
        kind: str,
        path: str,
        params: Pairs,
        payload: str,
        *,
        style: str | None = None,
        mode: str = "document",
        lang: str = "en",
        referer: str | None = None,
        safe: str = "",
        raw_keys: bool = False,
        method: str = "GET",
        **meta: Any,
    ) -> bool:
        style = style or self.pick(("plus", "pct"))
        target = f"{path}?{enc_query(params, style, raw_keys=raw_keys, safe=safe)}" if params else path
        cookie = self.session_cookie() if self.chance(0.6) else None
        hdrs = self.headers(
            mode=mode,
            method=method,
            referer=referer,
            cookie=cookie,
            lang=lang,
            fetch_site="same-origin" if referer else "none",
        )
        return self.add(kind, "query", method, target, hdrs, None, payload, encoding=style, **meta)

    def send_form(
        self,
        kind: str,
        path: str,
        fields: Pairs,
        payload: str,
        *,
        lang: str = "en",
        referer: str | None = None,
        method: str = "POST",
        **meta: Any,
    ) -> bool:
        body = urlencode(fields)
        hdrs = self.headers(
            mode="document",
            method=method,
            body=body,
            content_type="application/x-www-form-urlencoded",
            referer=referer or f"{ORIGIN}{path}",
            cookie=self.session_cookie(),
            lang=lang,
        )
        return self.add(kind, "form", method, path, hdrs, body, payload, **meta)

    def send_json(
        self,
        kind: str,
        path: str,
        obj: Any,
        payload: str | None = None,
        *,
        lang: str = "en",
        method: str = "POST",
        referer: str | None = None,
        auth: bool | None = None,
        content_type: str = "application/json",
        **meta: Any,
    ) -> bool:
        body = json.dumps(obj, ensure_ascii=self.chance(0.15), separators=self.pick(((",", ":"), (", ", ": "))))
        extra: Pairs = []
        if auth if auth is not None else self.chance(0.4):
            extra.append(("Authorization", f"Bearer {self.jwt()}"))
            cookie = None
        else:
            cookie = self.session_cookie()
            extra.append((self.pick(("X-CSRF-Token", "X-CSRFToken", "X-XSRF-TOKEN")), self.alnum(40)))
        if self.chance(0.3):
            extra.append(("X-Requested-With", "XMLHttpRequest"))
        hdrs = self.headers(
            mode="xhr",
            method=method,
            body=body,
            content_type=content_type,
            referer=referer or f"{ORIGIN}/{self.pick(('app', 'account', 'shop', 'dashboard'))}",
            cookie=cookie,
            lang=lang,
            extra=extra,
        )
        if payload is None:
            payload = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        return self.add(kind, "json", method, path, hdrs, body, payload, **meta)

    def send_multipart(
        self,
        kind: str,
        path: str,
        fields: Pairs,
        files: list[tuple[str, str, str, str]],
        payload: str,
        *,
        lang: str = "en",
        referer: str | None = None,
        **meta: Any,
    ) -> bool:
        boundary = self.pick(("----WebKitFormBoundary", "----geckoformboundary", "----WebKitFormBoundary")) + self.alnum(16)
        parts = []
        for name, value in fields:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{crlf(value)}\r\n')
        for name, filename, ctype, content in files:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {ctype}\r\n\r\n{content}\r\n"
            )
        body = "".join(parts) + f"--{boundary}--\r\n"
        hdrs = self.headers(
            mode="document",
            method="POST",
            body=body,
            content_type=f"multipart/form-data; boundary={boundary}",
            referer=referer or f"{ORIGIN}{path}",
            cookie=self.session_cookie(),
            lang=lang,
        )
        return self.add(kind, "multipart", "POST", path, hdrs, body, payload, files=len(files), **meta)

    def send_cookie(self, kind: str, path: str, name: str, value: str, payload: str, *, lang: str = "en", **meta: Any) -> bool:
        cookie = (
            f"{self.session_cookie()}; {name}={quote(value, safe='')}" if self.chance(0.8) else f"{name}={quote(value, safe='')}"
        )
        hdrs = self.headers(mode="document", method="GET", referer=f"{ORIGIN}/", cookie=cookie, lang=lang)
        return self.add(kind, "cookie", "GET", path, hdrs, None, payload, param=name, **meta)

    def send_path(
        self,
        kind: str,
        target: str,
        payload: str,
        *,
        lang: str = "en",
        mode: str = "document",
        method: str = "GET",
        **meta: Any,
    ) -> bool:
        cookie = self.session_cookie() if self.chance(0.6) else None
        hdrs = self.headers(
            mode=mode,
            method=method,
            referer=f"{ORIGIN}/" if self.chance(0.7) else None,
            cookie=cookie,
            lang=lang,
            fetch_site="same-origin",
        )
        return self.add(kind, "path", method, target, hdrs, None, payload, **meta)

    def send_referer(self, kind: str, target: str, referer: str, payload: str, *, lang: str = "en", **meta: Any) -> bool:
        hdrs = self.headers(mode="document", method="GET", referer=referer, cookie=self.session_cookie(), lang=lang)
        return self.add(kind, "header", "GET", target, hdrs, None, payload, param="Referer", **meta)

    def run(self, kind: str, n: int, step: Callable[[int], bool]) -> None:
        added, tries = 0, 0
        while added < n:
            tries += 1
            if tries > n * 50:
                raise RuntimeError(f"could not generate {n} distinct {kind} requests")
            if step(added):
                added += 1

    # ---- search ---------------------------------------------------------
    def search_pool(self) -> list[str]:
        pool = list(SEARCH_QUERIES)
        pool += [f"{a} vs {b}" for a, b in VERSUS]
        pool += [f"how to {t} in {tool}" for t, tool in HOWTO]
        pool += list(PHONES)
        pool += [self.email(p) for p in PEOPLE[::2]]
        for _ in range(25):
            pool.append(
                self.pick(
                    (
                        f"{self.rng.randrange(10, 99)}-{self.rng.randrange(1000, 9999)}-{self.pick(COLORS)}",
                        f"SKU {self.alnum(2).upper()}{self.rng.randrange(1000, 99999)}",
                        f"B0{self.alnum(8).upper()}",
                        f"978-{self.rng.randrange(0, 9)}-{self.rng.randrange(100, 999)}-{self.rng.randrange(10000, 99999)}-{self.rng.randrange(10)}",
                        f"order #A-{self.rng.randrange(10000, 99999)}",
                        f"tracking 1Z{self.alnum(6).upper()}{self.rng.randrange(10**9, 10**10)}",
                        f"part no. {self.alnum(3).upper()}/{self.rng.randrange(100, 999)}",
                        f"invoice INV-2024-{self.rng.randrange(1, 9999):04d}",
                    )
                )
            )
        self.rng.shuffle(pool)
        return pool

    def gen_search(self, n: int) -> None:
        pool = self.search_pool()
        placements = (
            ("query-plus", 28),
            ("query-pct", 22),
            ("form", 12),
            ("json", 12),
            ("path", 8),
            ("header", 9),
            ("cookie", 9),
        )

        def step(i: int) -> bool:
            q = pool[i % len(pool)]  # every query at least once
            lang = self.pick(("en", "en", "en", "en-GB", "de", "fr", "es"))
            where = self.weighted(placements)
            if where.startswith("query"):
                path = self.pick(
                    ("/search", "/s", "/shop/search", "/help/search", "/products", "/", "/blog/search", "/docs/search")
                )
                param = self.pick(("q", "q", "q", "query", "search", "s", "keyword", "term"))
                params: Pairs = [(param, q)]
                if self.chance(0.4):
                    params.append(("page", str(self.rng.randrange(1, 12))))
                if self.chance(0.3):
                    params.append(("sort", self.pick(("relevance", "price_asc", "-rating", "newest"))))
                if self.chance(0.2):
                    params.insert(0, ("category", self.pick(("all", "books", "electronics", "home-garden", "shoes"))))
                if self.chance(0.15):
                    params.append(("lang", lang.split("-")[0]))
                return self.send_query(
                    "search",
                    path,
                    params,
                    q,
                    style="plus" if where == "query-plus" else "pct",
                    lang=lang,
                    referer=f"{ORIGIN}/" if self.chance(0.7) else None,
                    param=param,
                )
            if where == "form":
                fields = [("q", q), ("category", self.pick(("all", "books", "shoes", "kitchen")))]
                if self.chance(0.4):
                    fields.insert(0, ("csrfmiddlewaretoken", self.alnum(64)))
                return self.send_form(
                    "search",
                    self.pick(("/search", "/catalog/search", "/support/search")),
                    fields,
                    q,
                    lang=lang,
                    param="q",
                )
            if where == "json":
                obj: dict[str, Any] = self.pick(
                    (
                        {
                            "query": q,
                            "page": self.rng.randrange(1, 5),
                            "filters": {"in_stock": self.chance(0.5)},
                            "locale": "en-US",
                        },
                        {"q": q, "limit": 8},
                        {"term": q, "facets": ["brand", "price"], "sort": {"field": "relevance", "order": "desc"}},
                    )
                )
                return self.send_json(
                    "search",
                    self.pick(("/api/v1/search", "/api/search/suggest", "/api/v2/catalog/search")),
                    obj,
                    q,
                    lang=lang,
                )
            if where == "path":
                prefix = self.pick(("/search/", "/s/", "/tag/", "/find/"))
                return self.send_path("search", prefix + quote(q, safe=""), q, lang=lang)
            if where == "header":
                target = self.pick(
                    (
                        f"/products/{slug(q)}-{self.rng.randrange(100, 99999)}",
                        f"/p/{self.rng.randrange(10000, 999999)}",
                        "/search/results",
                    )
                )
                ref = f"{ORIGIN}/search?{self.pick(('q', 'query', 's'))}={quote_plus(q, safe='')}"
                return self.send_referer("search", target, ref, q, lang=lang)
            name = self.pick(("last_search", "recent_searches", "q_hist"))
            if name == "recent_searches":
                other = pool[self.rng.randrange(len(pool))]
                value = json.dumps([q, other], ensure_ascii=False)
                return self.send_cookie("search", self.pick(("/search", "/", "/shop")), name, value, f"{q} | {other}", lang=lang)
            return self.send_cookie("search", self.pick(("/search", "/", "/shop")), name, q, q, lang=lang)

        self.run("search", n, step)

    # ---- forms ----------------------------------------------------------
    def address(self, person: Person) -> tuple[str, str, str, str, str]:
        return self.pick(ADDRESSES.get(person.country, ADDRESSES["US"]))

    def form_fields(self, sub: str, p: Person) -> tuple[str, Pairs, list[str]]:
        """Return (path, fields, user-typed values) for one form submission."""
        email = self.email(p)
        if sub == "signup":
            pw = self.pick(PASSWORDS)
            fields = [
                ("first_name", p.given),
                ("last_name", p.family),
                ("email", email),
                ("password", pw),
                ("password_confirmation", pw),
                ("birthdate", self.birthdate()),
                ("country", p.country),
            ]
            if self.chance(0.6):
                fields.append(("terms", "on"))
            if self.chance(0.4):
                fields.append(("newsletter", "1"))
            return self.pick(("/signup", "/register", "/account/create", "/users")), fields, [p.full, email, pw]
        if sub == "contact":
            msg = self.pick(CONTACT_MESSAGES)
            if self.chance(0.3):
                msg += (
                    "\n\n"
                    + self.pick(("Best regards,", "Thanks!", "Cheers,", "Kind regards,", "Mit freundlichen Grüßen"))
                    + "\n"
                    + p.full
                )
            fields = [
                ("name", p.full),
                ("email", email),
                ("phone", self.pick(PHONES) if self.chance(0.5) else ""),
                ("subject", self.pick(SUBJECTS)),
                ("message", crlf(msg)),
            ]
            if self.chance(0.4):
                fields.append(("topic", self.pick(("order", "returns", "other", "press"))))
            return self.pick(("/contact", "/support/contact", "/help/ask", "/kontakt")), fields, [p.full, email, msg]
        if sub == "checkout":
            l1, l2, city, pc, region = self.address(p)
            note = self.pick(DELIVERY_NOTES)
            cur = self.pick(CURRENCIES)
            fields = [
                ("full_name", p.full),
                ("address_line1", l1),
                ("address_line2", l2),
                ("city", city),
                ("postal_code", pc),
                ("region", region),
                ("country", COUNTRY_NAMES.get(p.country, p.country)),
                ("phone", self.pick(PHONES)),
                ("email", email),
                ("delivery_notes", crlf(note)),
                ("coupon", self.pick(("", "", "SPRING-20", "WELCOME10", "50OFF", "FREESHIP"))),
                ("total", self.price()),
                ("currency", cur),
                ("payment_method", self.pick(("card", "paypal", "sepa", "ideal", "cod"))),
            ]
            if self.chance(0.3):
                fields.append(
                    (
                        "gift_message",
                        self.pick(
                            (
                                "Happy birthday! Love, M & J",
                                "Congrats on the new job :-)",
                                "Für dich ❤",
                                "¡Feliz Navidad!",
                            )
                        ),
                    )
                )
            return (
                self.pick(("/checkout/address", "/checkout", "/cart/checkout", "/order/confirm")),
                fields,
                [p.full, l1, l2, city, note],
            )
        if sub == "profile":
            bio = self.pick(BIOS)
            l1, _, city, _, _ = self.address(p)
            fields = [
                ("display_name", p.full),
                ("username", p.local.replace(".", "_")),
                ("bio", crlf(bio)),
                ("website", f"https://{slug(p.local)}.example.com/"),
                ("location", f"{city}, {COUNTRY_NAMES.get(p.country, p.country)}"),
                ("pronouns", self.pick(PRONOUNS)),
                ("birthday", self.birthdate()),
                ("timezone", self.pick(TIMEZONES)),
                ("company", self.pick(COMPANIES)),
                ("job_title", self.pick(JOB_TITLES)),
            ]
            return (
                self.pick(("/account/profile", "/settings/profile", "/me/edit", "/users/profile")),
                fields,
                [p.full, bio],
            )
        if sub == "booking":
            notes = self.pick(
                (
                    "Table by the window if possible; one guest is vegetarian.",
                    "We'll bring a high chair for the baby.",
                    "It's our 10th anniversary :) anything special would be lovely!",
                    "2 adults + 1 dog (small, very calm).",
                    "Allergies: peanuts & shellfish.",
                    "Late check-in (~23:30), flight lands at 22:45.",
                    "",
                )
            )
            fields = [
                ("name", p.full),
                ("email", email),
                ("phone", self.pick(PHONES)),
                ("date", self.date()),
                ("time", self.pick(("12:30", "19:00", "19:45", "20:15", "7:30 PM"))),
                ("guests", str(self.rng.randrange(1, 9))),
                ("notes", crlf(notes)),
            ]
            return self.pick(("/reservations", "/book", "/booking/new", "/events/42/register")), fields, [p.full, notes]
        if sub == "newsletter":
            fields = [
                ("email", email),
                ("first_name", p.given),
                ("interests[]", self.pick(("recipes", "deals", "news"))),
                ("interests[]", self.pick(("events", "new-arrivals"))),
                ("consent", "yes"),
            ]
            return self.pick(("/newsletter/subscribe", "/subscribe")), fields, [p.given, email]
        # password change
        old, new = self.pick(PASSWORDS), self.pick(PASSWORDS)
        fields = [("current_password", old), ("new_password", new), ("new_password_confirm", new)]
        return self.pick(("/account/password", "/settings/security/password")), fields, [old, new]

    def gen_form(self, n: int) -> None:
        subs = (
            ("signup", 20),
            ("contact", 22),
            ("checkout", 20),
            ("profile", 16),
            ("booking", 10),
            ("newsletter", 6),
            ("password", 6),
        )
        placements = (("form", 55), ("multipart", 18), ("json", 20), ("cookie", 4), ("query", 3))

        def step(i: int) -> bool:
            p = PEOPLE[(i + self.rng.randrange(len(PEOPLE))) % len(PEOPLE)]
            sub = self.weighted(subs)
            path, fields, typed = self.form_fields(sub, p)
            payload = " | ".join(v for v in typed if v)
            where = self.weighted(placements)
            lang = p.lang
            if where == "form":
                if self.chance(0.6):
                    fields = [(self.pick(("authenticity_token", "csrf_token", "_token")), self.csrf()), *fields]
                return self.send_form("form", path, fields, payload, lang=lang, form=sub)
            if where == "multipart":
                files: list[tuple[str, str, str, str]] = []
                if sub in ("contact", "profile", "booking") and self.chance(0.5):
                    fname, content = self.pick(
                        (
                            (
                                "order-confirmation.txt",
                                f"Order A-{self.rng.randrange(10000, 99999)}\r\nPlaced: {self.date()}\r\n1x Kettle (blue) 39.90\r\nTotal: 39.90 EUR\r\n",
                            ),
                            (
                                "notes.txt",
                                "Things to mention:\r\n- wrong colour\r\n- box was damaged (see photo)\r\n- prefer exchange over refund\r\n",
                            ),
                            ("about-me.txt", f"Hi, I'm {p.full}. I like hiking, board games & bad puns.\r\n"),
                            ("guest-list.csv", "name,diet\r\nAna,vegetarian\r\nTom,none\r\nJosé,gluten-free\r\n"),
                        )
                    )
                    files.append(("attachment", fname, "text/csv" if fname.endswith(".csv") else "text/plain", content))
                    payload = f"{payload} | {content.strip()}"
                return self.send_multipart("form", path, fields, files, payload, lang=lang, form=sub)
            if where == "json":
                obj: dict[str, Any] = {}
                for k, v in fields:
                    if k.endswith("[]"):
                        obj.setdefault(k[:-2], []).append(v)
                    else:
                        obj[k] = v.replace("\r\n", "\n")
                if sub == "checkout":
                    addr_keys = ("address_line1", "address_line2", "city", "postal_code", "region", "country")
                    obj["shipping_address"] = {k: obj.pop(k) for k in addr_keys}
                    obj["total"] = float(obj["total"])
                    obj["gift_wrap"] = self.chance(0.2)
                elif sub == "signup":
                    obj = {"user": obj, "marketing_opt_in": "newsletter" in obj, "referrer": None}
                return self.send_json("form", "/api" + path, obj, payload, lang=lang, auth=False, form=sub)
            if where == "cookie":
                name, value = self.pick(
                    (
                        ("display_name", p.full),
                        ("last_login_email", self.email(p)),
                        ("checkout_name", p.full),
                        ("remembered_user", json.dumps({"name": p.full, "country": p.country}, ensure_ascii=False)),
                    )
                )
                return self.send_cookie(
                    "form", self.pick(("/checkout", "/account", "/")), name, value, value, lang=lang, form=sub
                )
            params: Pairs = [("email", self.email(p)), ("name", p.full)]
            return self.send_query(
                "form",
                self.pick(("/newsletter/confirm", "/signup", "/invite/accept")),
                params,
                f"{params[0][1]} | {p.full}",
                lang=lang,
                param="email,name",
                form="prefill",
            )

        self.run("form", n, step)

    # ---- prose in many languages ---------------------------------------
    def prose(self, lang: str) -> str:
        sentences = PROSE[lang]
        k = min(len(sentences), self.rng.randrange(2, 5))
        text = " ".join(self.rng.sample(sentences, k))
        if self.chance(0.2):
            text += " " + self.pick(HASHTAGS)
        if self.chance(0.2):
            text += " " + self.pick(EMOJI)
        if self.chance(0.15):
            parts = text.split(". ", 1)
            text = ".\n\n".join(parts) if len(parts) == 2 else text
        return text

    def gen_prose(self, n: int) -> None:
        langs = list(PROSE)
        placements = (("form", 40), ("json", 35), ("multipart", 15), ("query", 10))
        people_by_lang: dict[str, list[Person]] = {}
        for p in PEOPLE:
            people_by_lang.setdefault(p.lang.split("-")[0], []).append(p)

        def step(i: int) -> bool:
            lang = langs[i % len(langs)]
            text = self.prose(lang)
            author = self.pick(people_by_lang.get(lang, list(PEOPLE)))
            title = self.pick(PROSE_TITLES[lang])
            where = self.weighted(placements)
            if where == "form":
                pid = self.rng.randrange(100, 99999)
                fields: Pairs = [
                    ("rating", str(self.rng.randrange(2, 6))),
                    ("title", title),
                    ("body", crlf(text)),
                    ("author", author.full),
                ]
                if self.chance(0.5):
                    fields.append(("recommend", "yes"))
                path = self.pick(
                    (
                        f"/products/{pid}/reviews",
                        f"/hotels/{pid}/reviews",
                        f"/blog/{slug(title)}-{pid}/comments",
                        "/guestbook",
                    )
                )
                return self.send_form("prose_i18n", path, fields, f"{title} | {text}", lang=lang, lang_code=lang)
            if where == "json":
                obj: dict[str, Any] = self.pick(
                    (
                        {
                            "post_id": self.rng.randrange(1, 5000),
                            "body": text,
                            "lang": lang,
                            "author": {"name": author.full, "id": self.rng.randrange(1, 10**6)},
                        },
                        {"conversation_id": self.uuid4(), "text": text, "attachments": [], "reply_to": None},
                        {
                            "review": {
                                "rating": self.rng.randrange(1, 6),
                                "title": title,
                                "text": text,
                                "verified_purchase": True,
                            },
                            "locale": lang,
                        },
                    )
                )
                return self.send_json(
                    "prose_i18n",
                    self.pick(("/api/v1/comments", "/api/chat/messages", "/api/reviews")),
                    obj,
                    text,
                    lang=lang,
                    lang_code=lang,
                )
            if where == "multipart":
                fields = [("subject", title), ("message", text)]
                files: list[tuple[str, str, str, str]] = []
                if self.chance(0.3):
                    files.append(("attachment", "message.txt", "text/plain; charset=utf-8", crlf(self.prose(lang))))
                return self.send_multipart(
                    "prose_i18n",
                    self.pick(("/support/messages", "/feedback", "/forum/threads/331/replies")),
                    fields,
                    files,
                    text,
                    lang=lang,
                    lang_code=lang,
                )
            short = self.prose(lang).split("\n")[0]
            params: Pairs = self.pick(([("sl", "auto"), ("tl", "en"), ("text", short)], [("message", short), ("preview", "1")]))
            return self.send_query(
                "prose_i18n",
                self.pick(("/translate", "/chat/preview")),
                params,
                short,
                mode="xhr",
                lang=lang,
                lang_code=lang,
            )

        self.run("prose_i18n", n, step)

    # ---- JSON APIs ------------------------------------------------------
    def api_body(self, sub: str) -> tuple[str, str, Any]:
        r = self.rng
        if sub == "order":
            items = [
                {
                    "sku": f"{r.randrange(10, 99)}-{r.randrange(1000, 9999)}-{self.pick(COLORS)}",
                    "qty": r.randrange(1, 4),
                    "unit_price": float(self.price()),
                    "options": self.pick(({"size": "M", "color": "navy"}, {"engraving": "For Mum ♥"}, {})),
                }
                for _ in range(r.randrange(1, 4))
            ]
            p = self.pick(PEOPLE)
            l1, l2, city, pc, region = self.address(p)
            return (
                "POST",
                self.pick(("/api/v1/orders", "/api/orders", "/api/v2/checkout/orders")),
                {
                    "customer_id": self.uuid4(),
                    "currency": self.pick(CURRENCIES),
                    "items": items,
                    "shipping": {
                        "method": self.pick(("standard", "express", "pickup")),
                        "address": {
                            "name": p.full,
                            "line1": l1,
                            "line2": l2 or None,
                            "city": city,
                            "postal_code": pc,
                            "region": region or None,
                            "country": p.country,
                        },
                    },
                    "coupon": self.pick((None, "SPRING-20", "WELCOME10")),
                    "gift_message": None,
                    "newsletter": r.random() < 0.3,
                    "placed_at": self.iso(),
                },
            )
        if sub == "settings":
            return (
                self.pick(("PATCH", "PUT")),
                self.pick(("/api/v1/me/settings", "/api/users/me/preferences", "/api/settings")),
                {
                    "theme": self.pick(("dark", "light", "system")),
                    "locale": self.pick(("en-US", "de-DE", "pt-BR", "ja-JP", "ar-SA")),
                    "timezone": self.pick(TIMEZONES),
                    "notifications": {
                        "email": r.random() < 0.5,
                        "push": r.random() < 0.5,
                        "sms": False,
                        "digest": self.pick(("daily", "weekly", "never")),
                    },
                    "quiet_hours": self.pick(({"start": "22:00", "end": "07:00"}, None)),
                    "privacy": {"show_profile": r.random() < 0.7, "allow_tagging": r.random() < 0.5},
                },
            )
        if sub == "filters":
            return (
                "POST",
                self.pick(("/api/v1/products/search", "/api/catalog/query")),
                {
                    "filters": {
                        "price": {"gte": r.randrange(0, 50), "lte": r.randrange(60, 500)},
                        "brand": r.sample(["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"], r.randrange(1, 4)),
                        "in_stock": True,
                        "rating": {"gte": self.pick((3, 4, 4.5))},
                        "tags": {"any": ["vegan", "organic"]},
                    },
                    "sort": [{"field": self.pick(("price", "created_at", "rating")), "order": self.pick(("asc", "desc"))}],
                    "page": {"size": self.pick((12, 24, 48)), "cursor": self.pick((None, b64url(r.randbytes(12))))},
                },
            )
        if sub == "auth":
            return (
                "POST",
                self.pick(("/api/auth/refresh", "/api/v1/session/refresh")),
                {
                    "refresh_token": self.jwt(),
                    "client_id": f"web-{self.hexs(8)}",
                    "device": {"id": self.uuid4(), "name": self.pick(("Ana's MacBook", "Pixel 8", "iPad (Küche)"))},
                },
            )
        if sub == "avatar":
            return (
                "PUT",
                f"/api/v1/users/{r.randrange(1, 10**6)}/avatar",
                {
                    "filename": self.pick(("avatar.png", "me.png", "profile-pic.png")),
                    "content_type": "image/png",
                    "data": self.tiny_png(),
                    "crop": {"x": 0, "y": 0, "w": 1, "h": 1},
                },
            )
        if sub == "thumbnail":
            return (
                "POST",
                "/api/v1/uploads",
                {
                    "name": self.pick(("thumb.png", "preview.png")),
                    "data_url": "data:image/png;base64," + self.tiny_png(),
                    "alt": self.pick(("Red mug on a wooden table", "Floor plan, 2nd floor", "Logo (draft)")),
                },
            )
        if sub == "webhook":
            return (
                self.pick(("POST", "PUT")),
                "/api/v1/webhooks",
                {
                    "url": self.pick(
                        (
                            "https://localhost/hooks/orders",
                            "https://localhost/api/callbacks/payment",
                            f"{ORIGIN}/integrations/slack/{self.hexs(12)}",
                        )
                    ),
                    "events": r.sample(
                        ["order.created", "order.paid", "order.refunded", "customer.updated", "invoice.sent"],
                        r.randrange(1, 4),
                    ),
                    "active": True,
                    "secret": None,
                    "retry": {"max_attempts": 5, "backoff_seconds": [10, 60, 300]},
                },
            )
        if sub == "analytics":
            events = [
                {
                    "event": self.pick(("page_view", "add_to_cart", "search", "scroll_depth")),
                    "ts": self.iso(),
                    "props": self.pick(
                        (
                            {"path": "/shop/shoes", "referrer": "https://www.example.org/"},
                            {"sku": "88-1402-BLK", "value": 79.9},
                            {"query": self.pick(SEARCH_QUERIES)},
                            {"percent": 75},
                        )
                    ),
                }
                for _ in range(r.randrange(1, 4))
            ]
            return (
                "POST",
                self.pick(("/api/collect", "/api/v1/events")),
                {
                    "session": self.uuid4(),
                    "events": events,
                    "utm": {"source": "newsletter", "medium": "email", "campaign": "spring_sale_2024"},
                },
            )
        if sub == "graphql":
            q, v = self.pick(
                (
                    ("query { user(id: 5) { name orders { id total } } }", None),
                    (
                        "query GetOrder($id: ID!) { order(id: $id) { id status total items { sku qty } } }",
                        {"id": str(r.randrange(1000, 99999))},
                    ),
                    (
                        "query Products($first: Int, $after: String) { products(first: $first, after: $after) { edges { node { id name price } } pageInfo { hasNextPage endCursor } } }",
                        {"first": 24, "after": None},
                    ),
                    (
                        "mutation AddToCart($sku: String!, $qty: Int!) { addToCart(sku: $sku, quantity: $qty) { cart { id itemCount total } } }",
                        {"sku": f"{r.randrange(10, 99)}-{r.randrange(1000, 9999)}-BLK", "qty": r.randrange(1, 3)},
                    ),
                    (
                        "mutation UpdateProfile($input: ProfileInput!) { updateProfile(input: $input) { id displayName } }",
                        {"input": {"displayName": self.pick(PEOPLE).full, "bio": self.pick(BIOS)}},
                    ),
                    ("query { viewer { id notifications(unread: true) { totalCount } } }", None),
                )
            )
            obj: dict[str, Any] = {"query": q}
            if v is not None:
                obj["variables"] = v
                obj["operationName"] = q.split("(")[0].split()[1]
            return "POST", "/graphql", obj
        if sub == "calendar":
            start = self.when()
            return (
                "POST",
                "/api/v1/calendar/events",
                {
                    "title": self.pick(
                        ("Team sync", "Dentist 🦷", "Rock & Roll dance class", "1:1 Ana / Tom", "Sprint review (Q2)")
                    ),
                    "start": start.isoformat(),
                    "end": (start + dt.timedelta(minutes=self.pick((30, 45, 60)))).isoformat(),
                    "attendees": [self.email(p) for p in r.sample(PEOPLE, 2)],
                    "recurrence": self.pick(("RRULE:FREQ=WEEKLY;BYDAY=MO,WE", None)),
                    "location": self.pick(("Room 3.14", "https://meet.example.com/abc-defg-hij", None)),
                    "all_day": False,
                },
            )
        if sub == "task":
            return (
                self.pick(("POST", "PATCH")),
                f"/api/v1/boards/{r.randrange(1, 99)}/cards",
                {
                    "title": self.pick(
                        (
                            "Fix typo on pricing page",
                            "Order more coffee",
                            "Update SSL certificate",
                            "Write release notes for 2.14",
                        )
                    ),
                    "labels": r.sample(["bug", "p2", "frontend", "docs", "ops"], 2),
                    "due": self.pick((None, self.date())),
                    "checklist": [{"text": "Draft", "done": True}, {"text": "Review", "done": False}],
                    "assignee_id": self.pick((None, r.randrange(1, 500))),
                    "position": round(r.random() * 1000, 3),
                },
            )
        if sub == "geo":
            return (
                "POST",
                "/api/v1/stores/nearby",
                {
                    "lat": round(r.uniform(-40, 60), 6),
                    "lng": round(r.uniform(-120, 140), 6),
                    "accuracy": round(r.uniform(3, 80), 1),
                    "radius_km": self.pick((5, 10, 25)),
                    "open_now": True,
                },
            )
        if sub == "patch":
            return (
                "PATCH",
                f"/api/v1/users/{r.randrange(1, 10**6)}",
                [
                    {"op": "replace", "path": "/email", "value": self.email(self.pick(PEOPLE))},
                    {"op": "add", "path": "/tags/-", "value": self.pick(("vip", "wholesale", "beta-tester"))},
                    {"op": "remove", "path": "/phone"},
                ],
            )
        if sub == "cart":
            return (
                "PUT",
                f"/api/v2/cart/{self.uuid4()}/items/{r.randrange(1, 99)}",
                {"quantity": r.randrange(0, 5), "note": self.pick(("", "Gift", "Please no plastic packaging"))},
            )
        # feature flags / config
        return (
            "PUT",
            "/api/admin/feature-flags",
            {
                "flags": {
                    "new_checkout": r.random() < 0.5,
                    "dark_mode": True,
                    "max_upload_mb": self.pick((10, 25, 100)),
                    "allowed_origins": ["https://localhost", "https://shop.example.com"],
                    "cdn_base": "https://cdn.example.com/assets/",
                },
                "updated_by": self.email(self.pick(PEOPLE)),
                "comment": "enable for 10% of users",
            },
        )

    def gen_json_api(self, n: int) -> None:
        subs = (
            ("order", 14),
            ("settings", 9),
            ("filters", 9),
            ("auth", 5),
            ("avatar", 4),
            ("thumbnail", 4),
            ("webhook", 5),
            ("analytics", 8),
            ("graphql", 14),
            ("calendar", 6),
            ("task", 6),
            ("geo", 4),
            ("patch", 4),
            ("cart", 5),
            ("flags", 3),
        )

        def step(i: int) -> bool:
            sub = self.weighted(subs)
            method, path, obj = self.api_body(sub)
            if sub == "graphql" and self.chance(0.15):
                params: Pairs = [("query", obj["query"])]
                if "variables" in obj:
                    params.append(("variables", json.dumps(obj["variables"], ensure_ascii=False, separators=(",", ":"))))
                return self.send_query("json_api", "/graphql", params, obj["query"], style="pct", mode="xhr", api=sub)
            if sub == "filters" and self.chance(0.2):
                f = json.dumps(obj["filters"], separators=(",", ":"))
                return self.send_query(
                    "json_api",
                    "/api/v1/products",
                    [("filter", f), ("limit", "24")],
                    f,
                    style="pct",
                    mode="xhr",
                    api=sub,
                    param="filter",
                )
            ct = (
                "application/json-patch+json"
                if sub == "patch"
                else self.pick(("application/json", "application/json", "application/json; charset=utf-8"))
            )
            return self.send_json("json_api", path, obj, method=method, content_type=ct, api=sub)

        self.run("json_api", n, step)

    # ---- developer content ---------------------------------------------
    def log_lines(self) -> str:
        lines = []
        t = self.when()
        for _ in range(self.rng.randrange(2, 7)):
            t += dt.timedelta(milliseconds=self.rng.randrange(5, 5000))
            msg = self.pick(LOG_MESSAGES).format(
                n=self.rng.randrange(1, 99999),
                amt=self.price(),
                p=self.rng.randrange(1, 9),
                ms=self.rng.randrange(3, 2500),
            )
            lines.append(
                f"{t.strftime('%Y-%m-%dT%H:%M:%S')}.{t.microsecond // 1000:03d}Z {self.pick(LOG_LEVELS):<5} [{self.pick(('web', 'worker-3', 'scheduler', 'api'))}] {msg}"
            )
        return "\n".join(lines)

    def bug_report(self) -> tuple[str, str]:
        title = self.pick(BUG_TITLES)
        parts = [
            f"**Steps to reproduce**\n\n{self.pick(BUG_STEPS)}",
            f"**Expected**\n\n{self.pick(('The order is placed.', 'The file uploads.', 'All rows are exported.', 'No error.'))}",
            f"**Actual**\n\n```\n{self.pick(STACK_TRACES)}\n```",
        ]
        if self.chance(0.5):
            parts.append(f"**Logs**\n\n```\n{self.log_lines()}\n```")
        parts.append(f"**Environment**\n\n{self.pick(ENVIRONMENTS)}")
        if self.chance(0.3):
            parts.append(f"Relevant file: `{self.pick(FILE_PATHS)}`")
        return title, "\n\n".join(parts)

    def dev_settings(self) -> Pairs:
        fields: Pairs = [
            ("ticket_pattern", self.pick(REGEXES)),
            ("schedule", self.pick(CRONS)),
            ("ignore_paths", self.pick(GLOBS)),
            ("log_level", self.pick(("debug", "info", "warning"))),
            ("retention_days", str(self.pick((7, 30, 90)))),
        ]
        if self.chance(0.5):
            fields.append(("webhook_url", self.pick(("https://localhost/hooks/ci", f"{ORIGIN}/api/callbacks/build"))))
        if self.chance(0.5):
            fields.append(("branch_filter", self.pick(("main", "release/*", "feature/**"))))
        if self.chance(0.4):
            fields.append(("min_version", self.pick(VERSIONS)))
        return fields

    def gen_dev(self, n: int) -> None:
        subs = (("bug", 35), ("note", 25), ("settings", 15), ("paths", 10), ("search", 15))

        def step(i: int) -> bool:
            sub = self.weighted(subs)
            if sub == "bug":
                title, body = self.bug_report()
                where = self.weighted((("form", 40), ("json", 35), ("multipart", 25)))
                if where == "form":
                    fields: Pairs = [
                        ("issue[title]", title),
                        ("issue[body]", crlf(body)),
                        ("issue[labels]", self.pick(("bug", "bug,needs-triage", "regression"))),
                    ]
                    return self.send_form(
                        "dev_text",
                        f"/projects/{self.rng.randrange(1, 300)}/issues",
                        fields,
                        f"{title} | {body}",
                        dev=sub,
                    )
                if where == "json":
                    obj: dict[str, Any] = {
                        "title": title,
                        "body": body,
                        "labels": ["bug"],
                        "assignees": [],
                        "milestone": self.pick((None, "2.15")),
                    }
                    return self.send_json(
                        "dev_text",
                        f"/api/v1/repos/{self.pick(('acme', 'ana'))}/{self.pick(('shop', 'csvtool', 'website'))}/issues",
                        obj,
                        f"{title} | {body}",
                        dev=sub,
                    )
                log = self.log_lines()
                files = [
                    (
                        "logfile",
                        self.pick(("app.log", "console.txt", "debug-output.log")),
                        "text/plain",
                        crlf(log) + "\r\n",
                    )
                ]
                return self.send_multipart(
                    "dev_text",
                    "/support/bug-report",
                    [("summary", title), ("details", body)],
                    files,
                    f"{title} | {body} | {log}",
                    dev=sub,
                )
            if sub == "note":
                note = self.pick(CODE_NOTES)
                where = self.weighted((("form", 35), ("json", 45), ("multipart", 20)))
                if where == "form":
                    return self.send_form(
                        "dev_text",
                        f"/projects/{self.rng.randrange(1, 300)}/merge_requests/{self.rng.randrange(1, 900)}/notes",
                        [("note[body]", crlf(note)), ("note[type]", "DiffNote" if self.chance(0.3) else "")],
                        note,
                        dev=sub,
                    )
                if where == "json":
                    obj = self.pick(
                        (
                            {"body": note},
                            {"comment": {"body": note, "format": "markdown"}, "thread_id": self.uuid4()},
                            {"content": note, "title": None, "tags": ["sql", "performance"]},
                        )
                    )
                    return self.send_json(
                        "dev_text", self.pick(("/api/v1/comments", "/api/v4/notes", "/api/posts")), obj, note, dev=sub
                    )
                fname = self.pick(("snippet.md", "notes.md", "query.sql", "README.md"))
                return self.send_multipart(
                    "dev_text",
                    "/snippets",
                    [("title", self.pick(("Report query", "Handy bash loop", "Money tip")))],
                    [
                        (
                            "file",
                            fname,
                            "text/markdown" if fname.endswith(".md") else "application/sql",
                            crlf(note) + "\r\n",
                        )
                    ],
                    note,
                    dev=sub,
                )
            if sub == "settings":
                fields = self.dev_settings()
                payload = " | ".join(v for _, v in fields)
                where = self.weighted((("form", 55), ("json", 45)))
                if where == "form":
                    return self.send_form(
                        "dev_text", f"/projects/{self.rng.randrange(1, 300)}/settings/ci", fields, payload, dev=sub
                    )
                obj = {k: (int(v) if k == "retention_days" else v) for k, v in fields}
                return self.send_json(
                    "dev_text", "/api/v1/projects/settings", {"settings": obj}, payload, method="PATCH", dev=sub
                )
            if sub == "paths":
                fields = [
                    ("source_path", self.pick(FILE_PATHS)),
                    ("export_path", self.pick(FILE_PATHS)),
                    (
                        "comment",
                        self.pick(
                            (
                                "Please keep the original file name.",
                                "Path from my work laptop (Windows).",
                                "Moved from the old share.",
                            )
                        ),
                    ),
                ]
                payload = " | ".join(v for _, v in fields)
                if self.chance(0.5):
                    return self.send_form("dev_text", "/tools/import", fields, payload, dev=sub)
                return self.send_json(
                    "dev_text", "/api/v1/imports", {k: v for k, v in fields} | {"overwrite": False}, payload, dev=sub
                )
            q = self.pick(
                (
                    *(t.split("\n")[0] for t in STACK_TRACES),
                    *VERSIONS,
                    *CRONS,
                    *REGEXES[:4],
                    "EADDRINUSE address already in use",
                    "ORDER BY with LIMIT and OFFSET",
                    "git rebase vs merge",
                    "python decimal InvalidOperation ConversionSyntax",
                    "django migration add NOT NULL column",
                    "cron every 15 minutes",
                )
            )
            return self.send_query("dev_text", self.pick(("/docs/search", "/search", "/kb")), [("q", q)], q, param="q", dev=sub)

        self.run("dev_text", n, step)

    # ---- ordinary URLs --------------------------------------------------
    def url_target(self) -> tuple[str, str, str, str]:
        """Return (target, mode, dest, accept)."""
        r = self.rng
        doc = ("document", "document", "")
        img = ("asset", "image", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8")
        api = ("xhr", "empty", "application/json")
        kind = r.randrange(24)
        if kind == 0:
            t = f"/products?page={r.randrange(1, 40)}&per_page={self.pick((12, 24, 48))}&sort={self.pick(('-created_at', 'price', '-price', 'name', '-rating'))}"
            return t, *doc
        if kind == 1:
            t = f"/api/v2/orders?status={self.pick(('shipped', 'pending', 'cancelled'))}&created_at[gte]={self.date()}&limit={self.pick((20, 50, 100))}"
            return t, *api
        if kind == 2:
            lo = r.randrange(0, 50)
            price = f"price[gte]={lo}&price[lte]={lo + r.randrange(10, 200)}"
            if self.chance(0.5):
                price = price.replace("[", "%5B").replace("]", "%5D")
            return (
                f"/shop/{self.pick(('shoes', 'jackets', 'lamps', 'mugs'))}?{price}&color={self.pick(('black', 'navy', 'sand'))}&size={r.randrange(36, 47)}",
                *doc,
            )
        if kind == 3:
            tags = r.sample(["python", "testing", "devops", "recipes", "travel", "c%2B%2B", "rock-%26-roll"], 2)
            br = self.pick(("[]", "%5B%5D"))
            return f"/blog?tags{br}={tags[0]}&tags{br}={tags[1]}", *doc
        if kind == 4:
            utm = [
                ("utm_source", self.pick(("newsletter", "google", "facebook", "partner_blog"))),
                ("utm_medium", self.pick(("email", "cpc", "social"))),
                ("utm_campaign", self.pick(("spring_sale_2024", "black-friday", "welcome_series_3"))),
                ("utm_content", self.pick(("hero_button", "footer-link", "image"))),
            ]
            if self.chance(0.4):
                utm.append(("gclid", self.alnum(24)))
            return (
                self.pick(("/", "/landing/spring", "/products/88-1402-blk")) + "?" + "&".join(f"{k}={v}" for k, v in utm),
                "document",
                "document",
                "",
            )
        if kind == 5:
            nxt = self.pick(("/account/orders", "/checkout", "/settings/profile?tab=security", "/cart"))
            enc = self.pick((nxt, quote(nxt, safe="")))
            return f"{self.pick(('/login', '/signin', '/auth/login'))}?next={enc}", *doc
        if kind == 6:
            rt = self.pick(
                (
                    "https://shop.example.com/cart",
                    "https://localhost/account",
                    "https://app.example.com/dashboard?tab=billing",
                )
            )
            return f"/auth/sso?return_to={quote(rt, safe='')}", *doc
        if kind == 7:
            asset = self.pick(
                (
                    (f"/static/js/main.{self.hexs(8)}.js", "script", "*/*"),
                    (f"/static/css/app.{self.hexs(6)}.css", "style", "text/css,*/*;q=0.1"),
                    ("/assets/fonts/Inter-Var.woff2", "font", "*/*"),
                    ("/favicon.ico", "image", img[2]),
                    ("/robots.txt", "empty", "*/*"),
                    ("/sitemap.xml", "empty", "*/*"),
                    ("/manifest.webmanifest", "manifest", "*/*"),
                    ("/apple-touch-icon.png", "image", img[2]),
                    (f"/images/products/{r.randrange(1000, 99999)}/large.webp?v={r.randrange(1, 9)}", "image", img[2]),
                    ("/assets/img/logo@2x.png", "image", img[2]),
                    (f"/_next/static/chunks/{self.hexs(16)}.js", "script", "*/*"),
                )
            )
            return asset[0], "asset", asset[1], asset[2]
        if kind == 8:
            return f"/api/v1/users/{self.uuid4()}/avatar?size={self.pick((64, 128, 256))}", *img
        if kind == 9:
            return (
                f"/api/v{r.randrange(1, 4)}/items?ids={','.join(str(r.randrange(1, 999)) for _ in range(3))}&fields=id,name,price&include=author,comments",
                *api,
            )
        if kind == 10:
            return f"/calendar/{r.randrange(2023, 2026)}/{r.randrange(1, 13):02d}/{r.randrange(1, 29):02d}", *doc
        if kind == 11:
            return self.pick(
                (
                    "/u/jose.garcia",
                    "/@ana_dev",
                    "/users/O%27Brien",
                    "/profile/M%C3%BCller",
                    "/people/%E7%8E%8B%E8%8A%B3",
                )
            ), *doc
        if kind == 12:
            return self.pick(
                (
                    "/wiki/Rock_%26_Roll",
                    "/wiki/C%2B%2B",
                    "/wiki/C_Sharp",
                    "/wiki/O%27Reilly_Media",
                    "/wiki/M%C3%BCnchen",
                    "/wiki/S%C3%A3o_Paulo",
                    "/wiki/Union_Station",
                    "/wiki/SELECT_(SQL)",
                    "/wiki/Null_Island",
                )
            ), *doc
        if kind == 13:
            return self.pick(
                (
                    "/files/Quarterly%20Report%20Q3.pdf",
                    "/download?file=report-2024-q1.pdf",
                    "/docs/v3.2/getting-started",
                    "/docs/api/v2/errors",
                    f"/invoices/INV-2024-{r.randrange(1, 9999):04d}.pdf",
                )
            ), *doc
        if kind == 14:
            return f"/maps?ll={r.uniform(-40, 60):.4f},{r.uniform(-120, 140):.4f}&z={r.randrange(8, 18)}", *doc
        if kind == 15:
            return f"/oauth/callback?code={self.alnum(32)}&state={self.hexs(16)}", *doc
        if kind == 16:
            return f"/checkout/success?session_id=cs_test_{self.alnum(40)}&order={r.randrange(10000, 99999)}", *doc
        if kind == 17:
            return (
                f"/img/resize?url={quote('https://cdn.example.com/p/' + str(r.randrange(100, 9999)) + '.jpg', safe='')}&w={self.pick((320, 640, 1280))}&q=80",
                *img,
            )
        if kind == 18:
            return self.pick(("/feed.rss", "/feed.xml?format=atom", "/blog/feed/", "/podcast/episodes.json")), *doc
        if kind == 19:
            return f"/search?q=&page={r.randrange(1, 3)}", *doc
        if kind == 20:
            return f"/api/v1/products/{r.randrange(1, 99999)}/reviews?cursor={b64url(r.randbytes(12))}&order=desc", *api
        if kind == 21:
            return f"/en-gb/{self.pick(('help', 'about-us', 'careers', 'stores/london-oxford-st'))}", *doc
        if kind == 22:
            return (
                f"/p/{slug(self.pick(SEARCH_QUERIES[120:200]))}-{r.randrange(100, 99999)}?variant={r.randrange(1, 9)}&ref=homepage",
                *doc,
            )
        return self.pick(
            (
                "/",
                "/about",
                "/pricing",
                "/contact",
                "/blog",
                "/careers",
                "/shop",
                "/cart",
                "/account/orders",
                "/.well-known/security.txt",
                f"/orders/{r.randrange(10000, 99999)}/track",
                f"/tickets/{self.uuid4()}",
            )
        ), *doc

    def gen_urls(self, n: int) -> None:
        referers = (
            "https://www.google.com/",
            "https://duckduckgo.com/",
            "https://www.bing.com/",
            "https://news.example.org/article/123",
            "https://t.co/Ab3dE6fGh1",
            None,
        )

        def step(i: int) -> bool:
            target, mode, dest, accept = self.url_target()
            method = "HEAD" if self.chance(0.03) else "GET"
            if mode == "document" and self.chance(0.3):
                ref: str | None = self.pick(referers)
                site = "cross-site" if ref else "none"
            else:
                ref, site = f"{ORIGIN}/{self.pick(('', 'shop', 'blog', 'account'))}", "same-origin"
            cookie = self.session_cookie() if self.chance(0.65) else None
            extra: Pairs = []
            if mode == "xhr" and self.chance(0.5):
                extra.append(("Authorization", f"Bearer {self.jwt()}"))
            hdrs = self.headers(
                mode=mode,
                method=method,
                referer=ref,
                cookie=cookie,
                accept=accept or None,
                dest=dest,
                fetch_site=site,
                lang=self.pick(("en", "en", "en-GB", "de", "fr", "es", "ja", "pt")),
                extra=extra,
            )
            payload = unquote(target)
            return self.add("urls", "query" if "?" in target else "path", method, target, hdrs, None, payload)

        self.run("urls", n, step)

    # ---- rich text ------------------------------------------------------
    def gen_rich(self, n: int) -> None:
        def step(i: int) -> bool:
            blocks = self.rng.sample(HTML_BLOCKS, self.rng.randrange(2, 6))
            html = "".join(blocks) if self.chance(0.7) else "\n".join(blocks)
            title = self.pick(
                (
                    "Spring update",
                    "Weekly newsletter #14",
                    "Recipe: lemon cake",
                    "Meeting notes 2024-05-03",
                    "Product description",
                    "Welcome e-mail",
                    "Store hours",
                    "Release notes 2.14",
                )
            )
            where = self.weighted((("form", 50), ("json", 35), ("multipart", 15)))
            meta: dict[str, Any] = {
                "contains_html": True,
                "note": "WYSIWYG editor HTML; some apps legitimately accept it",
            }
            if where == "form":
                fields: Pairs = [
                    ("title", title),
                    (self.pick(("content", "body_html", "post[body]", "description")), html),
                    ("status", self.pick(("draft", "published"))),
                ]
                return self.send_form(
                    "rich_text",
                    self.pick(
                        (
                            "/admin/pages/12/edit",
                            "/blog/new",
                            "/newsletter/campaigns/7",
                            "/forum/threads/331/replies",
                            "/admin/products/88-1402-blk",
                        )
                    ),
                    fields,
                    html,
                    **meta,
                )
            if where == "json":
                obj = self.pick(
                    (
                        {"title": title, "content_html": html, "format": "html"},
                        {"post": {"title": title, "body": html, "tags": ["news"]}},
                        {"message": {"subject": title, "html": html, "text": None}},
                    )
                )
                return self.send_json(
                    "rich_text",
                    self.pick(("/api/v1/posts", "/api/pages/12", "/api/newsletters/7/draft")),
                    obj,
                    html,
                    method=self.pick(("POST", "PUT")),
                    **meta,
                )
            return self.send_multipart("rich_text", "/admin/pages/new", [("title", title), ("body", html)], [], html, **meta)

        self.run("rich_text", n, step)

    def generate(self) -> list[Record]:
        self.gen_search(KIND_COUNTS["search"])
        self.gen_form(KIND_COUNTS["form"])
        self.gen_prose(KIND_COUNTS["prose_i18n"])
        self.gen_json_api(KIND_COUNTS["json_api"])
        self.gen_dev(KIND_COUNTS["dev_text"])
        self.gen_urls(KIND_COUNTS["urls"])
        self.gen_rich(KIND_COUNTS["rich_text"])
        return self.records


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------

TOKEN_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
KEYS_REQUIRED = {"id", "source", "label", "category", "method", "target", "headers", "payload", "meta"}

# Attack markers that must never appear in this set (checked on decoded text). rich_text may
# contain ordinary markup but none of these either.
FORBIDDEN: tuple[str, ...] = (
    "<script",
    "javascript:",
    "vbscript:",
    "onerror",
    "onload=",
    "onmouseover",
    "../",
    "..\\",
    "/etc/passwd",
    "/etc/shadow",
    "$(",
    "${",
    "{{",
    "{%",
    "' or ",
    '" or ',
    "or 1=1",
    "' and '",
    "' and 1",
    "' and (",
    "union select",
    "union all select",
    "sleep(",
    "benchmark(",
    "waitfor delay",
    "xp_cmdshell",
    "information_schema",
    "<!entity",
    "<!doctype",
    "<?php",
    "<?xml",
    "%00",
    "\x00",
    "cmd.exe",
    "/bin/sh",
    "powershell -e",
    "eval(",
    "exec(",
    "system(",
    "base64_decode",
    "document.cookie",
    "alert(",
    "prompt(",
    "<iframe",
    "<svg",
    "<object",
    "<embed",
    "jndi:",
    "file://",
    "gopher://",
    "169.254.169.254",
    "127.0.0.1",
    "@import",
    "expression(",
    "srcdoc",
    "data:text/html",
    "\r\nset-cookie",
)


def _printable(s: str, lo: int = 0x20) -> bool:
    return all(lo <= ord(c) <= 0x7E for c in s)


def validate(rec: Record, n: int) -> list[str]:
    errs: list[str] = []
    keys = set(rec)
    if not keys >= KEYS_REQUIRED or keys - KEYS_REQUIRED - {"body"}:
        errs.append(f"bad keys {sorted(keys)}")
        return errs
    if rec["id"] != f"{SOURCE}-{n}":
        errs.append(f"id {rec['id']!r} != {SOURCE}-{n}")
    if rec["source"] != SOURCE or rec["label"] != "benign" or rec["category"] != "benign":
        errs.append("source/label/category")
    if not isinstance(rec["method"], str) or not TOKEN_RE.match(rec["method"]):
        errs.append("method")
    target = rec["target"]
    if not isinstance(target, str) or not target.startswith("/") or not _printable(target, 0x21):
        errs.append(f"target {target!r}")
    body = rec.get("body")
    if body is not None and (not isinstance(body, str) or not body):
        errs.append("body must be non-empty text when present")
    headers = rec["headers"]
    if not isinstance(headers, list) or not all(
        isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h) for h in headers
    ):
        errs.append("headers shape")
        return errs
    names = [h[0].lower() for h in headers]
    for name, value in headers:
        if not TOKEN_RE.match(name):
            errs.append(f"header name {name!r}")
        if not _printable(value) or value != value.strip():
            errs.append(f"header value {name}: {value!r}")
    if names.count("host") != 1 or next(v for k, v in headers if k.lower() == "host") != "localhost":
        errs.append("Host")
    if len(set(names)) != len(names):
        errs.append("duplicate header")
    cl = [v for k, v in headers if k.lower() == "content-length"]
    if body is None:
        if cl:
            errs.append("Content-Length without body")
    elif cl != [str(len(body.encode("utf-8")))]:
        errs.append("Content-Length mismatch")
    ctype = next((v for k, v in headers if k.lower() == "content-type"), "")
    if body is not None:
        if not ctype:
            errs.append("body without Content-Type")
        elif "json" in ctype:
            try:
                json.loads(body)
            except ValueError:
                errs.append("JSON body does not parse")
        elif ctype == "application/x-www-form-urlencoded":
            if not _printable(body, 0x21):
                errs.append("form body not URL-encoded")
            else:
                parse_qsl(body, keep_blank_values=True, strict_parsing=True)
        elif ctype.startswith("multipart/form-data; boundary="):
            b = ctype.split("=", 1)[1]
            if not body.startswith(f"--{b}") or not body.endswith(f"--{b}--\r\n"):
                errs.append("multipart framing")
            if re.search(r"(?<!\r)\n", body):
                errs.append("multipart bare LF")
    if not isinstance(rec["payload"], str) or not rec["payload"].strip():
        errs.append("payload")
    meta = rec["meta"]
    if not isinstance(meta, dict) or meta.get("kind") not in KIND_COUNTS or meta.get("placement") not in PLACEMENTS:
        errs.append(f"meta {meta!r}")
    # no attack markers anywhere (decoded)
    views = [unquote_plus(target), rec["payload"]] + [unquote(v) for _, v in headers]
    if body is not None:
        views += [body, unquote_plus(body)]
    low = "\n".join(views).lower()
    for marker in FORBIDDEN:
        if marker in low:
            errs.append(f"forbidden marker {marker!r}")
    if meta.get("kind") != "rich_text" and re.search(r"<(p|a|b|i|ul|li|div|span|img|h[1-6])[\s>]", low):
        errs.append("HTML markup outside rich_text")
    return errs


def validate_all(records: Sequence[Record]) -> list[str]:
    problems: list[str] = []
    for n, rec in enumerate(records, 1):
        problems += [f"line {n}: {e}" for e in validate(rec, n)]
    return problems


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

KIND_DOCS: dict[str, str] = {
    "search": "search queries people type, incl. technical ones with SQL/shell/HTML words (`select all shoes`, "
    "`union station to brooklyn`, `rm vs mv linux`, `what does 1=1 mean in sql`), e-mails, phones, product codes, "
    "other languages",
    "form": "sign-up, contact, checkout, profile, booking, newsletter and password-change forms: international names "
    "(O'Brien, D'Angelo, Müller, 王芳, Ольга), addresses, prose comments, passwords with symbols, dates, prices",
    "prose_i18n": "reviews / comments / messages of 2-4 sentences in 20 languages (en de fr es pt it nl pl tr ru uk el ar "
    "he hi zh ja ko vi id) with quotes, parentheses, semicolons, ampersands, hashtags, emoji",
    "json_api": "REST/GraphQL bodies: orders, settings, nested filters, JSON Patch, JWT-looking tokens, base64 PNG "
    "thumbnails, UUIDs, ISO dates, same-site callback URLs, ordinary GraphQL queries and mutations",
    "dev_text": "developer content: bug reports with stack traces and logs, markdown with code fences (SQL, bash, "
    "Python), file paths, version strings, cron expressions, regexes and globs in settings forms, docs searches",
    "urls": "ordinary GETs: pagination, sorting, bracket filters, `tags[]`, utm parameters, `next=` / `return_to=` "
    "redirects, static assets, API versions, IDs, percent-encoded path segments",
    "rich_text": "**HTML posted by a WYSIWYG editor** (`<p>`, `<b>`, `<a href>`, `<ul><li>`, `<img>`, inline `style`). "
    "Kept separate: only some apps accept markup, so a WAF may legitimately block these; report them apart",
}


def write_readme(records: Sequence[Record]) -> None:
    kinds = Counter(r["meta"]["kind"] for r in records)
    by_kp = Counter((r["meta"]["kind"], r["meta"]["placement"]) for r in records)
    methods = Counter(r["method"] for r in records)
    lines = [
        "# Siren benign test set",
        "",
        "`siren-benign.jsonl` holds legitimate HTTP requests written for Siren, to measure false positives on",
        "benign traffic that does not look like the public training corpora (a classifier trained on those",
        "corpora tends to flag a large share of benign text from elsewhere). All text (queries, names, addresses,",
        "reviews, code snippets, HTML) is Siren's own; names, addresses, e-mails and phone numbers are invented.",
        "Every line has `label` = `category` = `benign` and `source` = `siren-benign`.",
        "",
        "Schema: the same as the shared labelled corpus (`id`, `source`, `label`, `category`, `method`, `target`,",
        "`headers`, optional `body`, `payload`, `meta`). `meta.kind` is the kind below, `meta.placement` where",
        "the benign value sits (`query`, `form`, `json`, `multipart`, `cookie`, `path`, `header` = Referer).",
        "Query placements also record `meta.encoding` (`plus` = spaces as `+`, `pct` = spaces as `%20`).",
        "Headers are ordered like the browser named in `User-Agent` (Chrome, Firefox, Safari, Edge, Samsung).",
        "",
        "## Kinds",
        "",
        "| kind | requests | what |",
        "| --- | ---: | --- |",
    ]
    for kind in KIND_COUNTS:
        lines.append(f"| `{kind}` | {kinds[kind]} | {KIND_DOCS[kind]} |")
    lines += [
        f"| total | {len(records)} | |",
        "",
        "## Placements per kind",
        "",
        "| kind | " + " | ".join(PLACEMENTS) + " |",
        "| --- |" + " ---: |" * len(PLACEMENTS),
    ]
    for kind in KIND_COUNTS:
        lines.append(f"| `{kind}` | " + " | ".join(str(by_kp[(kind, p)]) for p in PLACEMENTS) + " |")
    lines += [
        "",
        "Methods: " + ", ".join(f"{m} {c}" for m, c in sorted(methods.items(), key=lambda x: -x[1])) + ".",
        "",
        "## Notes",
        "",
        "- Evaluate `rich_text` separately: it is markup on purpose. Everything else should pass a WAF untouched.",
        "- Some search and dev entries are deliberately borderline (SQL in code fences, `what does 1=1 mean in sql`,",
        "  shell commands in questions). None contains an actual attack payload: the generator rejects lines with",
        "  markers such as `<script`, `../`, `$(`, `${`, `' or `, `union select`, `/etc/passwd`, `jndi:`.",
        "",
        "## Regenerate",
        "",
        "```",
        "python3 tools/make_benign.py           # rewrite siren-benign.jsonl + this README, validate, print counts",
        "python3 tools/make_benign.py --check   # validate the existing file only",
        "```",
        "",
        "The generator is deterministic (fixed seed, stdlib only); the same script always produces the same files.",
        "",
    ]
    README_FILE.write_text("\n".join(lines), encoding="utf-8")


def print_counts(records: Sequence[Record]) -> None:
    kinds = Counter(r["meta"]["kind"] for r in records)
    by_kp = Counter((r["meta"]["kind"], r["meta"]["placement"]) for r in records)
    print(f"{len(records)} requests")
    for kind in KIND_COUNTS:
        parts = ", ".join(f"{p} {by_kp[(kind, p)]}" for p in PLACEMENTS if by_kp[(kind, p)])
        print(f"  {kind:<11} {kinds[kind]:>4}  ({parts})")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    ap.add_argument("--check", action="store_true", help="only validate the existing output file")
    args = ap.parse_args(argv)
    if args.check:
        records = [json.loads(line) for line in OUT_FILE.read_text(encoding="utf-8").splitlines()]
    else:
        records = Gen(SEED).generate()
    problems = validate_all(records)
    if problems:
        print("\n".join(problems[:50]), file=sys.stderr)
        print(f"{len(problems)} problems", file=sys.stderr)
        return 1
    if not args.check:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        with OUT_FILE.open("w", encoding="utf-8", newline="\n") as fh:
            for rec in records:
                fh.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
        reread = [json.loads(line) for line in OUT_FILE.read_text(encoding="utf-8").splitlines()]
        if reread != records or validate_all(reread):
            print("written file does not round-trip", file=sys.stderr)
            return 1
        write_readme(records)
        print(f"wrote {OUT_FILE.relative_to(ROOT)} and {README_FILE.relative_to(ROOT)}")
    print_counts(records)
    return 0


if __name__ == "__main__":
    sys.exit(main())
