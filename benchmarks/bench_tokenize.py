"""What tokenising 25,000 reviews of IMDB's size costs: the text loader's own functions, as train.py runs them.

The reviews are generated (nothing is downloaded): words drawn from a Zipf-distributed vocabulary of 60,000,
sentences with capitals, commas and full stops, IMDB's `<br /><br />` between some of them, and lengths drawn
log-normally as IMDB's are (median about 174 words, mean about 230, from 10 to 2,500). Measured in one process:
splitting the texts on spaces with str.split (the baseline, which knows no punctuation and makes no ids), the
loader's tokenisation into ids (`tokenized`), the vocabulary and the (N, 256) token indices
(`Texts.vocabulary`, `Texts.encode`), the same with byte pairs (the tokenizers library, tokenizer "bpe"), and
`load_data` on the same reviews written as an aclImdb folder of 25,000 .txt files: first reading, tokenising
and caching them, then from the cache.
Run: `.venv/bin/python benchmarks/bench_tokenize.py`.
"""

from __future__ import annotations

import itertools
import random
import statistics
import tempfile
import time
from pathlib import Path

import torch

from netbuilder.data.loaders import text_files

REVIEWS = 25_000
VOCABULARY = 60_000


def generated_reviews(count: int, seed: int = 0) -> list[str]:
    """Reviews of IMDB's length distribution, from a Zipf vocabulary of VOCABULARY made-up words."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "pe", "da", "gu", "fe", "ri", "zo", "ba", "ch"]
    words = sorted({"".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(VOCABULARY * 2)})
    rng.shuffle(words)
    words = words[:VOCABULARY]
    weights = list(itertools.accumulate(1.0 / rank for rank in range(1, len(words) + 1)))
    reviews = []
    for _ in range(count):
        length = min(max(int(rng.lognormvariate(5.157, 0.75)), 10), 2500)
        drawn = rng.choices(words, cum_weights=weights, k=length)
        sentences, start = [], 0
        while start < length:
            end = min(start + rng.randint(6, 24), length)
            sentence = drawn[start:end]
            if len(sentence) > 4:
                sentence[2] += ","
            sentences.append(" ".join(sentence).capitalize() + ".")
            start = end
        reviews.append(" ".join(s + (" <br /><br />" if rng.random() < 0.1 else "") for s in sentences))
    return reviews


def seconds(function, repeat: int = 3) -> tuple[float, object]:
    """The median time of `function()` over `repeat` calls, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    reviews = generated_reviews(REVIEWS)
    labels = ["pos" if i % 2 else "neg" for i in range(REVIEWS)]
    words = sum(len(review.split()) for review in reviews)
    print(f"{REVIEWS:,} generated reviews, {words / REVIEWS:.0f} words each on average, {words:,} words in all")

    baseline, _ = seconds(lambda: [review.split() for review in reviews])
    print(f"str.split (baseline)                        {baseline:6.2f} s")
    tokenising, texts = seconds(lambda: text_files.tokenized(reviews, labels, [False] * REVIEWS))
    print(f"tokenised into ids (text_files.tokenized)   {tokenising:6.2f} s   ratio {tokenising / baseline:5.1f}")
    print(f"  {len(texts.ids):,} tokens, {len(texts.words):,} distinct")
    train_index, _ = texts.parts(0.2, 0)
    vocabulary_time, vocabulary = seconds(lambda: texts.vocabulary(train_index))
    encode_time, x = seconds(lambda: texts.encode(vocabulary))
    print(f"vocabulary of {len(vocabulary):,} from the training part  {vocabulary_time:6.2f} s")
    print(f"encoded as {tuple(x.shape)} indices           {encode_time:6.2f} s")
    text_files.TOKENIZER = "bpe"
    pairs_time, tokenizer = seconds(lambda: texts.vocabulary(train_index), repeat=1)
    pieces_time, x = seconds(lambda: texts.encode(tokenizer), repeat=1)
    text_files.TOKENIZER = "words"
    print(f"byte pairs, {tokenizer.get_vocab_size():,} pieces, trained on the training part  {pairs_time:6.2f} s")
    print(f"encoded as {tuple(x.shape)} pieces            {pieces_time:6.2f} s")

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "aclImdb"
        for label in ("neg", "pos"):
            (root / "train" / label).mkdir(parents=True)
        for i, (review, label) in enumerate(zip(reviews, labels, strict=True)):
            (root / "train" / label / f"{i}_7.txt").write_text(review, encoding="utf-8")
        text_files.PATH = folder
        start = time.perf_counter()
        first = text_files.load_data(0)
        cold = time.perf_counter() - start
        cached, again = seconds(lambda: text_files.load_data(0))
        assert torch.equal(first.ids, again.ids)
        print(f"load_data, {REVIEWS:,} files read, tokenised and cached  {cold:6.2f} s   ratio {cold / baseline:5.1f}")
        print(f"load_data again, from the cache             {cached:6.2f} s")


if __name__ == "__main__":
    main()
