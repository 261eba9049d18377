"""Text for classification (or regression): the IMDB folder layout, one folder of .txt files per class, or a
CSV/TSV/JSON-lines table with a text column and a label column. Every text is split into words and punctuation
here, in plain Python, so train.py tokenises exactly as the app does; the vocabulary is made later, from the
training part only (Texts.vocabulary), and the texts become (N, MAX_LENGTH) token indices (Texts.encode).

IMDB is downloaded with the standard library alone (when the node's download is ticked), so train.py needs no
torchvision.

The Reviews (generated) dataset reads no file: SAMPLES reviews of about MEAN_LENGTH words are written here from
the word lists below with random.Random(seed), so train.py writes the very texts the app trains on (SAMPLES is 0
for texts read from PATH). A review's class is what its opinions add up to, where a negation turns one round
("not good" is negative) and an intensifier counts twice ("very dull"): a bag of words gets most reviews right,
a network that reads the words in order nearly all.

The constants after the settings are annotated, so that the catalogue reads them as code that
train.py carries, not as settings that the Dataset node gives."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
import os
import random
import re
import tarfile
import urllib.request
import zipfile

import numpy
import torch

PATH, DOWNLOAD, TEXT_COLUMN, TARGET_COLUMN, TASK, MAX_LENGTH, VOCAB_SIZE, MIN_FREQUENCY, LOWERCASE, TOKENIZER = (
    "data",
    False,
    "text",
    "target",
    "classification",
    256,
    20000,
    1,
    True,
    "words",
)
MAX_FILES = 200000
MAX_TEXT_BYTES = 131072
MAX_TABLE_BYTES = 268435456
URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
SAMPLES = 0
MEAN_LENGTH = 0

PAD: str = "<pad>"  # token index 0; <unk> is 1, then the vocabulary's words, most frequent first
UNKNOWN: str = "<unk>"
WORD: re.Pattern = re.compile(r"\w+|[^\w\s]")  # a word (letters, digits, _) or one punctuation mark
LINE_BREAK: re.Pattern = re.compile(r"<br\s*/?>", re.IGNORECASE)
CACHE_FORMAT: int = 2  # changes when what the cache holds does

# The generated reviews' words, separated by spaces: neutral ones (drawn Zipf-like, the first most often),
# opinions, and the words that change an opinion.
NEUTRAL: str = (
    "the a and of it this to is was in that i with for but as on film movie story plot its an by one at all be so "
    "from who his her they there about more out just some has what when had up even than only my would scene scenes "
    "acting cast actor actress director script ending music characters character dialogue time minutes hour end "
    "first last part role lead hero villain camera effects audience sequel series screen night year family friend "
    "house town war life world day way people man woman kid felt seemed looked thought watched saw found made kept "
    "went came here then while after before again also still much most many every two other own whole same new old "
    "long young"
)
POSITIVE: str = (
    "good great wonderful excellent brilliant moving funny beautiful enjoyable superb charming clever memorable "
    "gripping delightful touching fresh solid fun perfect"
)
NEGATIVE: str = (
    "bad awful boring terrible dull poor weak predictable silly mediocre painful forgettable lazy messy tedious "
    "bland clumsy pointless flat annoying"
)
INTENSIFIERS: str = "very really truly incredibly quite rather pretty utterly"
NEGATIONS: str = "not never hardly"
LENGTH_SPREAD: float = 0.75  # the log-normal sigma of IMDB's review lengths (median 174 words, mean 230)
WORDS_PER_OPINION: int = 15  # a review has one opinion, and one more for every this many words


def tokenize(text: str) -> list[str]:
    """The words and punctuation marks of a text, each a token ("Don't!" gives don ' t !), lower-cased when
    LOWERCASE. A line break written as HTML (IMDB's <br />) is a space."""
    text = LINE_BREAK.sub(" ", text)
    return WORD.findall(text.lower() if LOWERCASE else text)


class Texts:
    """Every text as ids into `words` (the distinct tokens, in order of first appearance): text i is
    ids[offsets[i]:offsets[i + 1]]. `labels` are class indices (or values, (N, 1)); the last `held_out` texts
    are a fixed validation part (IMDB's test folder), none when the split is drawn with the seed. The texts
    as written are kept as UTF-8 bytes, text i at raw[raw_offsets[i]:raw_offsets[i + 1]] (see `text`)."""

    def __init__(
        self,
        words: list[str],
        ids: torch.Tensor,
        offsets: torch.Tensor,
        labels: torch.Tensor,
        class_names: list[str],
        held_out: int,
        raw: bytes,
        raw_offsets: torch.Tensor,
    ) -> None:
        self.words, self.ids, self.offsets, self.labels = words, ids, offsets, labels
        self.class_names, self.held_out = class_names, held_out
        self.raw, self.raw_offsets = raw, raw_offsets

    def text(self, index: int) -> str:
        """Text `index` as it was written (for showing it beside its tokens or its prediction)."""
        return self.raw[int(self.raw_offsets[index]) : int(self.raw_offsets[index + 1])].decode()

    def __len__(self) -> int:
        return len(self.labels)

    def parts(self, val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The training and validation texts' indices: IMDB's own test part where there is one, otherwise
        val_fraction of the texts drawn with the seed (as split() draws other datasets)."""
        if self.held_out:
            return torch.arange(len(self) - self.held_out), torch.arange(len(self) - self.held_out, len(self))
        order = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))
        n_val = int(len(self) * val_fraction)
        return order[n_val:], order[:n_val]

    def vocabulary(self, indices: torch.Tensor):  # a list of tokens, or a byte-pair tokenizer
        """What gives the tokens their indices, made from these texts (the training part) alone. For words, the
        tokens by index: <pad>, <unk>, then those that occur at least MIN_FREQUENCY times, most frequent first
        (ties in the tokens' order), VOCAB_SIZE in all at most. For byte pairs (TOKENIZER "bpe"), a byte-pair
        tokenizer trained on these texts' words (see byte_pairs)."""
        lengths = self.offsets[1:] - self.offsets[:-1]
        chosen = torch.zeros(len(self), dtype=torch.bool)
        chosen[indices] = True
        in_part = chosen.repeat_interleave(lengths)
        counts = torch.bincount(self.ids[in_part].long(), minlength=len(self.words)).tolist()
        if TOKENIZER == "bpe":
            return byte_pairs({self.words[i]: count for i, count in enumerate(counts) if count})
        frequent = [i for i, count in enumerate(counts) if count >= max(MIN_FREQUENCY, 1)]
        frequent.sort(key=lambda i: (-counts[i], self.words[i]))
        return [PAD, UNKNOWN] + [self.words[i] for i in frequent[: max(VOCAB_SIZE - 2, 0)]]

    def encode(self, vocabulary) -> torch.Tensor:
        """(N, MAX_LENGTH) token indices: each text's first MAX_LENGTH tokens (or pieces of words, for byte
        pairs), one missing from the vocabulary as <unk> (1), a shorter text padded with <pad> (0) on the right."""
        pieces, starts, sizes = word_pieces(self.words, vocabulary)
        tokens = self.ids.long()
        counts = sizes[tokens]  # each token's pieces: one for words
        token_of_piece = torch.arange(len(tokens)).repeat_interleave(counts)
        within = torch.arange(len(token_of_piece)) - (counts.cumsum(0) - counts)[token_of_piece]
        indices = pieces[starts[tokens[token_of_piece]] + within]
        text_of_token = torch.arange(len(self)).repeat_interleave(self.offsets[1:] - self.offsets[:-1])
        lengths = torch.zeros(len(self), dtype=torch.long).index_add_(0, text_of_token, counts)
        rows = torch.arange(len(self)).repeat_interleave(lengths)
        positions = torch.arange(len(indices)) - (lengths.cumsum(0) - lengths).repeat_interleave(lengths)
        kept = positions < MAX_LENGTH
        x = torch.zeros(len(self), MAX_LENGTH, dtype=torch.long)
        x[rows[kept], positions[kept]] = indices[kept]
        return x


def byte_pairs(counts: dict[str, int]):
    """A byte-pair tokenizer (the tokenizers library) trained on the training part's words, given with how
    often each occurs: <pad> 0, <unk> 1, then characters and merged pieces, VOCAB_SIZE in all at most (its
    alphabet the most frequent VOCAB_SIZE - 2 characters). A word it never saw whole becomes known pieces."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers  # only byte pairs need the library

    tokenizer = Tokenizer(models.BPE(unk_token=UNKNOWN))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()  # tokenize()'s words hold no spaces
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=MIN_FREQUENCY,
        special_tokens=[PAD, UNKNOWN],
        limit_alphabet=max(VOCAB_SIZE - 2, 1),
        show_progress=False,
    )
    tokenizer.train_from_iterator((" ".join([word] * count) for word, count in counts.items()), trainer)
    return tokenizer


def word_pieces(words: list[str], vocabulary) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every word's token indices in one tensor, where each word's start and how many it has: one index a word
    for a list of tokens (<unk>, 1, when missing), one or more pieces for a byte-pair tokenizer."""
    if isinstance(vocabulary, list):
        index = {word: i for i, word in enumerate(vocabulary)}
        pieces = [[index.get(word, 1)] for word in words]
    else:
        pieces = [
            encoding.ids for encoding in vocabulary.encode_batch([[word] for word in words], is_pretokenized=True)
        ]
    sizes = torch.tensor([len(ids) for ids in pieces], dtype=torch.long)
    flat = torch.tensor([i for ids in pieces for i in ids], dtype=torch.long)
    return flat, sizes.cumsum(0) - sizes, sizes


def load_data(seed: int) -> Texts:
    """Every text, tokenised, with its label: from the cache beside the data when neither the files nor the
    options that change the tokens have changed since, otherwise read and tokenised (and cached). Generated
    reviews (SAMPLES of them) are written again instead: that is quicker than reading a cache."""
    if SAMPLES:
        texts, labels = generated_reviews(seed)
        return tokenized(texts, labels, [False] * len(texts))
    if DOWNLOAD and not any(os.path.isdir(os.path.join(PATH, inside)) for inside in ("aclImdb", "train")):
        download_imdb()
    samples_files, key = find_samples()
    cache = os.path.abspath(PATH).rstrip(os.sep) + ".tokens"
    texts = read_cache(os.path.join(cache, key + ".npz"))
    if texts is None:
        texts = tokenized(*read_samples(samples_files))
        write_cache(cache, key + ".npz", texts)
    return texts


def download_imdb() -> None:
    """IMDB's reviews into PATH/aclImdb: the archive (84 MB) fetched beside it, unpacked (refusing links and
    paths that would land outside PATH), then removed."""
    os.makedirs(PATH, exist_ok=True)
    archive = os.path.join(PATH, URL.rsplit("/", 1)[-1])
    print(f"downloading {URL} into {PATH}", flush=True)
    urllib.request.urlretrieve(URL, archive + ".partial")
    os.replace(archive + ".partial", archive)
    with tarfile.open(archive) as reviews:
        reviews.extractall(PATH, filter="data")
    os.remove(archive)


def generated_reviews(seed: int) -> tuple[list[str], list[str]]:
    """SAMPLES movie reviews written from the word lists, and their classes ("negative" or "positive"), the same
    for the same seed. Lengths are log-normal with mean MEAN_LENGTH words, skewed as IMDB's (most short, a few
    several times as long). Opinions agree with the class meant for the review four times in five, some negated
    or intensified, set among neutral words; the class is the sign of their sum (a tie gets another opinion)."""
    rng = random.Random(seed)
    mu = math.log(MEAN_LENGTH) - LENGTH_SPREAD**2 / 2  # the log-normal whose mean is MEAN_LENGTH
    neutral, positive, negative = NEUTRAL.split(), POSITIVE.split(), NEGATIVE.split()
    intensifiers, negations = INTENSIFIERS.split(), NEGATIONS.split()
    neutral_weights = list(itertools.accumulate(1 / rank for rank in range(1, len(neutral) + 1)))
    texts, labels = [], []
    for i in range(SAMPLES):
        length = max(round(rng.lognormvariate(mu, LENGTH_SPREAD)), 3)
        opinions, score = [], 0
        while len(opinions) <= length // WORDS_PER_OPINION or score == 0:
            sign = 1 if (rng.random() < 0.8) == (i % 2 == 1) else -1  # what the opinion says, negation included
            words, weight = [], 1
            if rng.random() < 0.3:
                words, weight = [rng.choice(intensifiers)], 2
            negated = rng.random() < 0.3
            words.append(rng.choice(positive if (sign > 0) != negated else negative))
            opinions.append([rng.choice(negations), *words] if negated else words)
            score += sign * weight
        filler = max(length - sum(map(len, opinions)), 0)
        pieces = [[word] for word in rng.choices(neutral, cum_weights=neutral_weights, k=filler)]
        for opinion in opinions:
            pieces.insert(rng.randint(0, len(pieces)), opinion)
        sentences, start = [], 0
        while start < len(pieces):
            end = start + rng.randint(4, 14)
            words = " ".join(word for piece in pieces[start:end] for word in piece)
            sentences.append(words.capitalize() + ("!" if rng.random() < 0.15 else "."))
            start = end
        texts.append(" ".join(sentences))
        labels.append("positive" if score > 0 else "negative")
    return texts, labels


def find_samples() -> tuple[tuple[str, list[tuple[str, str, str, bool]]], str]:
    """Where the texts are, and the cache key: the layout, the files (folder, name in it, class, whether in
    IMDB's test part) and the options that change tokens, with every file's size and modification time."""
    if os.path.isfile(PATH):
        stats = os.stat(PATH)
        if stats.st_size > MAX_TABLE_BYTES:
            raise ValueError(f"{os.path.basename(PATH)} is larger than {MAX_TABLE_BYTES:,} bytes: use a sample of it")
        found = ("table", [])
        stamps = [(os.path.basename(PATH), stats.st_size, stats.st_mtime_ns)]
    else:
        root = os.path.join(PATH, "aclImdb") if os.path.isdir(os.path.join(PATH, "aclImdb")) else PATH
        if not os.path.isdir(root):
            raise SystemExit(f"there is no folder or file {PATH}: choose your texts, or tick download (IMDB)")
        imdb = all(os.path.isdir(os.path.join(root, "train", name)) for name in ("neg", "pos"))
        folders = [("train/neg", "neg", False), ("train/pos", "pos", False)]
        if imdb and all(os.path.isdir(os.path.join(root, "test", name)) for name in ("neg", "pos")):
            folders += [("test/neg", "neg", True), ("test/pos", "pos", True)]
        if not imdb:
            folders = [(entry.name, entry.name, False) for entry in os.scandir(root) if entry.is_dir()]
        files, stamps = [], []
        for folder, label, held_out in sorted(folders, key=lambda f: (f[2], f[0])):
            for entry in sorted(os.scandir(os.path.join(root, folder)), key=lambda e: e.name):
                if entry.name.endswith(".txt") and entry.is_file():
                    name = f"{folder}/{entry.name}"
                    stats = entry.stat()
                    if stats.st_size > MAX_TEXT_BYTES:
                        raise ValueError(f"{name} is larger than {MAX_TEXT_BYTES:,} bytes: shorten or remove it")
                    files.append((root, name, label, held_out))
                    stamps.append((name, stats.st_size, stats.st_mtime_ns))
                    if len(files) > MAX_FILES:
                        raise ValueError(f"{PATH} holds more than {MAX_FILES:,} .txt files: use a sample of them")
        found = ("imdb" if imdb else "folders", files)
    options = [CACHE_FORMAT, found[0], TEXT_COLUMN, TARGET_COLUMN, TASK, LOWERCASE, stamps]
    return found, hashlib.sha256(json.dumps(options).encode()).hexdigest()[:24]


def read_samples(found: tuple[str, list[tuple[str, str, str, bool]]]) -> tuple[list[str], list[str], list[bool]]:
    """Each text, its label (a class name, or a number as text) and whether it is in IMDB's test part."""
    layout, files = found
    if layout == "table":
        texts, labels = read_table()
        return texts, labels, [False] * len(texts)
    texts = []
    for root, name, _, _ in files:
        with open(os.path.join(root, name), "rb") as stream:
            data = stream.read(MAX_TEXT_BYTES + 1)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise ValueError(
                f"{name} is not UTF-8 text (byte {data[err.start]:#04x} at {err.start}): save it as UTF-8 or remove it"
            ) from None
        if not text.strip():
            raise ValueError(f"{name} is empty: write its text or remove it")
        texts.append(text)
    if len({label for _, _, label, _ in files}) < 2:
        raise ValueError(f"{PATH} needs one subfolder of .txt files per class, at least two")
    return texts, [label for _, _, label, _ in files], [held_out for _, _, _, held_out in files]


def read_table() -> tuple[list[str], list[str]]:
    """The text and label of every row of a CSV, TSV or JSON-lines file (blank lines skipped)."""
    name = os.path.basename(PATH)
    texts, labels = [], []
    try:
        with open(PATH, newline="", encoding="utf-8-sig") as stream:
            if PATH.lower().endswith((".jsonl", ".json", ".ndjson")):
                rows = ((number, json_row(line, name, number)) for number, line in enumerate(stream, 1))
                rows = ((number, row) for number, row in rows if row is not None)
            else:
                rows = table_rows(stream, name, "\t" if PATH.lower().endswith(".tsv") else ",")
            for number, row in rows:
                for column in (TEXT_COLUMN, TARGET_COLUMN):
                    if column not in row:
                        raise ValueError(
                            f"{name} line {number} has no column {column!r} (it has {', '.join(map(str, row))}): "
                            "set text_column and target_column to its columns"
                        )
                text, label = row[TEXT_COLUMN], row[TARGET_COLUMN]
                if not isinstance(text, str):
                    raise ValueError(f"{name} line {number}: the text {str(text)[:40]!r} is not a string")
                if not text.strip():
                    raise ValueError(f"{name} line {number}: the text is empty: fill or drop the row")
                if len(text) > MAX_TEXT_BYTES:
                    raise ValueError(f"{name} line {number}: the text is longer than {MAX_TEXT_BYTES:,} characters")
                label = (label if isinstance(label, str) else json.dumps(label)).strip()
                if not label:
                    raise ValueError(f"{name} line {number}: the label is empty: fill or drop the row")
                if TASK != "classification" and not is_finite_number(label):
                    raise ValueError(
                        f"{name} line {number}: the label {label[:40]!r} is not a finite number (regression)"
                    )
                texts.append(text)
                labels.append(label)
    except UnicodeDecodeError as err:
        raise ValueError(f"{name} is not UTF-8 text ({err.reason} at byte {err.start}): save it as UTF-8") from None
    except csv.Error as err:
        raise ValueError(f"{name} cannot be read as a table: {err}") from None
    if not texts:
        raise ValueError(f"{name} holds no rows of text")
    return texts, labels


def table_rows(stream, name: str, delimiter: str):
    """(line number, {column: value}) for each row of a CSV or TSV file with a header row."""
    reader = csv.reader(stream, delimiter=delimiter)
    header = None
    for row in reader:
        if not row or not any(value.strip() for value in row):
            continue
        if header is None:
            header = [column.strip() for column in row]
            continue
        if len(row) != len(header):
            raise ValueError(f"{name} line {reader.line_num} has {len(row)} values; the header has {len(header)}")
        yield reader.line_num, dict(zip(header, row, strict=True))


def json_row(line: str, name: str, number: int) -> dict | None:
    """One JSON-lines row as {column: value}; None for a blank line."""
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise ValueError(f"{name} line {number} is not JSON ({err.msg}): fix or drop the line") from None
    if not isinstance(row, dict):
        raise ValueError(f"{name} line {number} is not a JSON object with a text and a label")
    return row


def is_finite_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def encode_texts(texts: list[str], vocabulary) -> torch.Tensor:
    """New texts (to predict) as (N, MAX_LENGTH) token indices, split and indexed as the training texts were:
    `vocabulary` is what Texts.vocabulary made, or read_vocabulary read back from vocab.json."""
    return tokenized(texts, None, [False] * len(texts)).encode(vocabulary)


def tokenized(texts: list[str], labels: list[str] | None, held_out: list[bool]) -> Texts:
    """The texts as token ids into the list of distinct tokens, and their labels as tensors (None: texts to
    predict, which have no label: zeros)."""
    index: dict[str, int] = {}
    ids: list[int] = []
    offsets = [0]
    for text in texts:
        ids += [index.setdefault(token, len(index)) for token in tokenize(text)]
        offsets.append(len(ids))
    if labels is None:
        class_names, y = [], torch.zeros(len(texts), dtype=torch.long)
    elif TASK == "classification" or not os.path.isfile(PATH):  # folders' labels are always classes
        class_names = sorted(set(labels))
        number = {name: i for i, name in enumerate(class_names)}
        y = torch.tensor([number[label] for label in labels], dtype=torch.long)
    else:
        class_names = []
        y = torch.tensor([[float(label)] for label in labels], dtype=torch.float32)
    encoded = [text.encode() for text in texts]
    raw_offsets = torch.tensor([0, *itertools.accumulate(map(len, encoded))])
    ids_tensor = torch.tensor(ids, dtype=torch.int32)
    return Texts(
        list(index), ids_tensor, torch.tensor(offsets), y, class_names, sum(held_out), b"".join(encoded), raw_offsets
    )


def read_cache(file: str) -> Texts | None:
    """The tokenised texts saved in `file` (numpy arrays, no pickles), or None when there is none to use."""
    try:
        with numpy.load(file, allow_pickle=False) as saved:
            words = bytes(saved["words"]).decode().split("\n") if len(saved["words"]) else []
            class_names = json.loads(bytes(saved["class_names"]).decode())
            return Texts(
                words,
                torch.from_numpy(saved["ids"]),
                torch.from_numpy(saved["offsets"]),
                torch.from_numpy(saved["labels"]),
                class_names,
                int(saved["held_out"]),
                saved["raw"].tobytes(),
                torch.from_numpy(saved["raw_offsets"]),
            )
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):  # none yet, or damaged: tokenise again
        return None


def write_cache(folder: str, name: str, texts: Texts) -> None:
    """Save the tokenised texts in folder/name, written whole or not at all (a temporary file, then renamed),
    keeping the three newest others; a folder that cannot be written to is left without a cache."""
    arrays = {
        "words": numpy.frombuffer("\n".join(texts.words).encode(), dtype=numpy.uint8),
        "class_names": numpy.frombuffer(json.dumps(texts.class_names).encode(), dtype=numpy.uint8),
        "ids": texts.ids.numpy(),
        "offsets": texts.offsets.numpy(),
        "labels": texts.labels.numpy(),
        "held_out": numpy.array(texts.held_out),
        "raw": numpy.frombuffer(texts.raw, dtype=numpy.uint8),
        "raw_offsets": texts.raw_offsets.numpy(),
    }
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(temporary, "wb") as stream:
            numpy.savez(stream, **arrays)
        os.replace(temporary, os.path.join(folder, name))
        older = sorted((e for e in os.scandir(folder) if e.name.endswith(".npz")), key=lambda e: -e.stat().st_mtime_ns)
        for entry in older[4:]:
            os.remove(entry.path)
    except OSError:
        if os.path.exists(temporary):
            os.remove(temporary)
