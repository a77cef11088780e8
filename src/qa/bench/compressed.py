"""Compact vectors at scale: measure compressed FAISS indexes against exact search on real embeddings.

`python -m qa.bench.compressed` writes eval/compressed-index.md (and .json). The corpus is real text
already on the machine (Debian package docs under /usr/share/doc, installed packages' metadata, data/texts,
the SQuAD sample's contexts): split by the project's own splitter, exact duplicates dropped, shuffled with a
fixed seed, embedded with the project's embedder. Vectors are cached under eval/.work/compressed/ in shards,
so an interrupted run resumes. Queries are the real questions of eval/*.jsonl and eval/texts/*.jsonl, plus
held-out sentences of the same corpus (a sentence's near-copies are what compressed codes find hard).
"""
from __future__ import annotations

import glob
import gzip
import json
import os
import random
import time
from pathlib import Path

import numpy as np

from ..config import PROJECT_ROOT

WORK = PROJECT_ROOT / "eval" / ".work" / "compressed"
SHARD = 10_000


def corpus_sentences(seed: int = 0) -> list[str]:
    """Every distinct sentence (20-400 characters, 4+ words) of the texts on the machine, shuffled."""
    from ..indexing.store import normalise
    from ..reading.sentences import split_sentences

    cached = WORK / "sentences.jsonl"
    if cached.is_file():
        with cached.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh]
    texts = []
    files = sorted(glob.glob("/usr/share/doc/**/*", recursive=True))
    files += sorted(glob.glob(str(PROJECT_ROOT / ".venv/lib/python3*/site-packages/*.dist-info/METADATA")))
    files += sorted(glob.glob(str(PROJECT_ROOT / "data/texts/*.txt")))
    for f in files:
        if not os.path.isfile(f) or os.path.islink(f):
            continue
        try:
            raw = gzip.open(f).read() if f.endswith(".gz") else open(f, "rb").read()
            texts.append(raw.decode("utf-8"))
        except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
            continue
    for f in sorted(glob.glob(str(PROJECT_ROOT / "eval/data/squad2/*.json"))):
        data = json.loads(Path(f).read_text(encoding="utf-8"))
        texts.extend(p["context"] for article in data["data"] for p in article["paragraphs"])
    seen: dict[str, None] = {}
    for text in texts:
        for s, e in split_sentences(text):
            sentence = normalise(text[s:e])
            if 20 <= len(sentence) <= 400 and len(sentence.split()) >= 4:
                seen.setdefault(sentence)
    sentences = list(seen)
    random.Random(seed).shuffle(sentences)
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for sentence in sentences:
            fh.write(json.dumps(sentence, ensure_ascii=False) + "\n")
    tmp.rename(cached)
    return sentences


def corpus_vectors(n: int, log=print) -> np.ndarray:
    """The first `n` corpus sentences embedded (float32, unit length), computed SHARD at a time and cached."""
    from ..indexing import embedder

    sentences = corpus_sentences()
    n = min(n, len(sentences))
    out = []
    for k in range(0, n, SHARD):
        path = WORK / f"shard-{k // SHARD:04d}.npy"
        if not path.is_file():
            t0 = time.perf_counter()
            vectors = embedder.embed_texts(sentences[k:k + SHARD], batch_size=32)
            np.save(path.with_suffix(".tmp.npy"), vectors)
            os.replace(path.with_suffix(".tmp.npy"), path)
            log(f"embedded shard {k // SHARD} ({len(vectors) / (time.perf_counter() - t0):.0f} sentences/s)")
        out.append(np.load(path))
    return np.concatenate(out)[:n]


def question_vectors() -> np.ndarray:
    """The real questions of the evaluation sets, embedded."""
    from ..indexing import embedder

    path = WORK / "questions.npy"
    if path.is_file():
        return np.load(path)
    questions = []
    for f in sorted(glob.glob(str(PROJECT_ROOT / "eval/*.jsonl")) + glob.glob(str(PROJECT_ROOT / "eval/texts/*.jsonl"))):
        with open(f, encoding="utf-8") as fh:
            questions.extend(json.loads(line)["question"] for line in fh if line.strip())
    vectors = embedder.embed_texts(questions)
    np.save(path, vectors)
    return vectors



def _recall_at_5(found: np.ndarray, exact_scores: np.ndarray, vectors: np.ndarray, queries: np.ndarray) -> float:
    """Share of the 5 found whose exact similarity reaches the exact 5th best: near-copies tie, and any of
    them is as good an answer as another."""
    found = found[:, :5]
    scores = np.einsum("qkd,qd->qk", vectors[np.maximum(found, 0)], queries)
    ok = (scores >= exact_scores[:, 4:5] - 1e-5) & (found >= 0)
    return float(np.minimum(ok.sum(1), 5).mean() / 5)


def _timed_search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """Ids found and milliseconds a question, one question at a time on one thread (as retrieval does)."""
    import faiss

    faiss.omp_set_num_threads(1)
    found = np.empty((len(queries), k), dtype=np.int64)
    t0 = time.perf_counter()
    for row, q in enumerate(queries):
        found[row] = index.search(q.reshape(1, -1), k)[1][0]
    return found, (time.perf_counter() - t0) / len(queries) * 1000


def _extend(real: np.ndarray, n: int, seed: int = 1) -> np.ndarray:
    """`n` vectors: the real ones, then paraphrase-like copies (a real vector plus noise at cosine 0.8-0.99)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    out[:len(real)] = real
    for b in range(len(real), n, 100_000):
        e = min(n, b + 100_000)
        sigma = rng.choice([0.005, 0.015, 0.03], size=(e - b, 1)).astype(np.float32)
        rows = real[rng.integers(0, len(real), e - b)] + sigma * rng.standard_normal((e - b, real.shape[1]), dtype=np.float32)
        out[b:e] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def _in_lists_bytes(index) -> int:
    import faiss

    ivf = faiss.extract_index_ivf(index)
    return sum(ivf.invlists.list_size(i) for i in range(ivf.nlist)) * (ivf.code_size + 8)


def measure_scale(vectors: np.ndarray, queries: np.ndarray, log=print) -> dict:
    """Train, add and search the product's compressed layout (qa.indexing.store) at len(vectors); flat as the truth."""
    import tempfile

    import faiss

    from ..indexing import store as index_store

    n = len(vectors)
    row = {"vectors": n, "nlist": index_store.ivf_lists(n)}
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    truth, row["flat_ms"] = _timed_search(exact, queries[:200], 5)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    exact_scores, _ = exact.search(queries, 5)
    del exact
    t0 = time.perf_counter()
    index = index_store.compressed_index(vectors)
    row["train_add_s"] = round(time.perf_counter() - t0, 1)
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        index_store._write_float16(Path(tmp) / "v.npy", vectors)
        faiss.write_index(index, str(Path(tmp) / "v.faiss"))
        row["faiss_file_bytes"] = (Path(tmp) / "v.faiss").stat().st_size
        row["f16_file_bytes"] = (Path(tmp) / "v.npy").stat().st_size
        t0 = time.perf_counter()
        compressed = index_store.CompressedVectors(faiss.read_index(str(Path(tmp) / "v.faiss")),
                                                   np.load(Path(tmp) / "v.npy", mmap_mode="r"))
        row["load_s"] = round(time.perf_counter() - t0, 3)
        row["in_lists_bytes_per_vector"] = _in_lists_bytes(index) / n
        row["ram_bytes_per_vector"] = row["faiss_file_bytes"] / n
        for depth in (5, 50):
            found, ms = _timed_search(compressed, queries, depth)
            row[f"recall_at_5_depth_{depth}"] = _recall_at_5(found, exact_scores, vectors, queries)
            row[f"ms_depth_{depth}"] = ms
        found, _ = _timed_search(compressed.index, queries, 5)
        row["recall_at_5_pq_only"] = _recall_at_5(found, exact_scores, vectors, queries)
    log(json.dumps(row))
    return row


def sweep(vectors: np.ndarray, queries: np.ndarray, log=print) -> list[dict]:
    """Recall@5 and time a question for the candidate layouts, nprobe and shortlist sizes (real vectors)."""
    import faiss

    from ..indexing import store as index_store

    n = len(vectors)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    exact_scores, _ = exact.search(queries, 5)
    f16 = vectors.astype(np.float16)
    rows = []
    for nlist in (64, 128, 256):
        t0 = time.perf_counter()
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        index = index_store.compressed_index(vectors, nlist=nlist)
        train_s = time.perf_counter() - t0
        for share in (0.125, 0.25, 0.5):
            index_store.set_nprobe(index, share)
            found, ms = _timed_search(index, queries, 5)
            row = {"nlist": nlist, "nprobe": index_store.faiss_ivf(index).nprobe, "train_add_s": round(train_s, 1),
                   "in_lists_bytes_per_vector": _in_lists_bytes(index) / n,
                   "recall_pq_only": _recall_at_5(found, exact_scores, vectors, queries), "ms_pq_only": ms}
            for shortlist in (50, 100, 200, 400):
                wrapped = index_store.CompressedVectors(index, f16, refine=1, refine_min=shortlist)
                found, ms = _timed_search(wrapped, queries, 5)
                row[f"recall_refine_{shortlist}"] = _recall_at_5(found, exact_scores, vectors, queries)
                row[f"ms_refine_{shortlist}"] = ms
            log(json.dumps(row))
            rows.append(row)
    return rows


def sentence_scoring(vectors: np.ndarray, queries: np.ndarray, candidates: int = 25, log=print) -> dict:
    """Scoring a question's candidate sentences from float32 in RAM against float16 memory-mapped rows
    (cold: the file's pages dropped from the cache first), and how far float16 moves the scores."""
    import tempfile

    from ..indexing import store as index_store

    rng = np.random.default_rng(3)
    out = {"candidates": candidates}
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        path = Path(tmp) / "s.npy"
        index_store._write_float16(path, vectors)
        mapped = np.load(path, mmap_mode="r")
        picks = [np.sort(rng.choice(len(vectors) - 10, candidates // 5)[:, None] + np.arange(5)).ravel()
                 for _ in queries]        # runs of 5 neighbours: the sentences of a question's top chunks
        t0 = time.perf_counter()
        for q, ids in zip(queries, picks):
            vectors[ids] @ q
        out["float32_ram_us"] = (time.perf_counter() - t0) / len(queries) * 1e6
        t0 = time.perf_counter()
        for q, ids in zip(queries, picks):
            mapped[ids] @ q
        out["float16_warm_us"] = (time.perf_counter() - t0) / len(queries) * 1e6
        cold = []
        for q, ids in zip(queries[:100], picks[:100]):
            fd = os.open(path, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
            t0 = time.perf_counter()
            np.load(path, mmap_mode="r")[ids] @ q
            cold.append(time.perf_counter() - t0)
        out["float16_cold_us_median"] = float(np.median(cold) * 1e6)
        diffs = np.abs(vectors.astype(np.float16).astype(np.float32) @ queries[:200].T - vectors @ queries[:200].T)
        out["float16_score_error_max"] = float(diffs.max())
        top32 = np.argmax(vectors @ queries.T, axis=0)
        top16 = np.argmax(vectors.astype(np.float16).astype(np.float32) @ queries.T, axis=0)
        out["same_best_sentence"] = float(np.mean(top32 == top16))
    log(json.dumps(out))
    return out


def run(out: Path = PROJECT_ROOT / "eval" / "compressed-index.md", real: int = 200_000, scale: int = 1_000_000,
        log=print) -> dict:
    from ..indexing import store as index_store

    available = len(list(WORK.glob("shard-*.npy"))) * SHARD
    vectors = corpus_vectors(min(real, available), log=log)
    held_out = vectors[-1000:]
    vectors = np.ascontiguousarray(vectors[:-1000])
    queries = np.concatenate([question_vectors(), held_out])
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "real_vectors": len(vectors),
              "questions": len(queries) - len(held_out), "held_out_sentences": len(held_out),
              "load": os.getloadavg()[0],
              "settings": {"pq_m": index_store.PQ_M, "nprobe_share": index_store.NPROBE_SHARE,
                           "refine": index_store.REFINE, "refine_min": index_store.REFINE_MIN,
                           "threshold_chunks": index_store.COMPRESS_THRESHOLD}}
    save = lambda: out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    result["scale"] = [measure_scale(vectors, queries, log=log)]
    save()
    result["sentences"] = sentence_scoring(vectors, queries, log=log)
    save()
    if scale > len(vectors):
        result["scale"].append(measure_scale(_extend(vectors, scale), queries, log=log))
        save()
    result["sweep"] = sweep(vectors, queries, log=log)
    save()
    return result


def shortlist_at_scale(real: np.ndarray, queries: np.ndarray, n: int, shortlists=(200, 400, 800, 1200, 1600),
                       shares=(0.5,), log=print) -> list[dict]:
    """Recall@5 of the product's layout at n vectors (real ones extended) as the re-ranked shortlist and the
    share of lists searched grow."""
    import faiss

    from ..indexing import store as index_store

    vectors = _extend(real, n)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    exact_scores, _ = exact.search(queries, 5)
    del exact
    index = index_store.compressed_index(vectors)
    f16 = vectors.astype(np.float16)
    rows = []
    for share in shares:
        index_store.set_nprobe(index, share)
        for shortlist in shortlists:
            wrapped = index_store.CompressedVectors(index, f16, refine=1, refine_min=shortlist)
            found, ms = _timed_search(wrapped, queries, 5)
            rows.append({"vectors": n, "nprobe": index_store.faiss_ivf(index).nprobe, "nlist": index_store.faiss_ivf(index).nlist,
                         "shortlist": shortlist, "recall_at_5": _recall_at_5(found, exact_scores, vectors, queries), "ms": ms})
            log(json.dumps(rows[-1]))
    return rows


SENTENCES_PER_CHUNK = 78_898 / 17_690     # the 1,000x bench corpus (eval/bench.md)


def markdown(result: dict) -> str:
    """The measurements as eval/compressed-index.md tables (the prose around them is in the file's header)."""
    lines = [f"Measured {result['date']} on 2 shared cores (load average {result['load']:.1f} at the start), "
             f"{result['real_vectors']:,} real sentence vectors, {result['questions']} real questions + "
             f"{result['held_out_sentences']:,} held-out sentences as queries; settings {json.dumps(result['settings'])}.",
             "", "### The product's layout at each size", "",
             "| vectors | lists | searched | recall@5 (depth 5 / 50) | recall@5 PQ alone | ms/question (depth 5 / 50) "
             "| flat ms | in-list B/vector | RAM B/vector (whole .faiss) | float16 file B/vector | train+add s |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result.get("scale", []):
        lines.append(f"| {r['vectors']:,} | {r['nlist']} | {round(r['nlist'] * result['settings']['nprobe_share'])} "
                     f"| {r['recall_at_5_depth_5']:.3f} / {r['recall_at_5_depth_50']:.3f} | {r['recall_at_5_pq_only']:.3f} "
                     f"| {r['ms_depth_5']:.1f} / {r['ms_depth_50']:.1f} | {r['flat_ms']:.1f} "
                     f"| {r['in_lists_bytes_per_vector']:.0f} | {r['ram_bytes_per_vector']:.0f} "
                     f"| {r['f16_file_bytes'] / r['vectors']:.0f} | {r['train_add_s']:.0f} |")
    if "sentences" in result:
        r = result["sentences"]
        lines += ["", "### Sentence scoring (25 candidate sentences a question)", "",
                  "| float32 in RAM | float16 memory-mapped, warm | float16, cold (pages dropped) | largest score change "
                  "| same best sentence |", "|---:|---:|---:|---:|---:|",
                  f"| {r['float32_ram_us']:.0f} µs | {r['float16_warm_us']:.0f} µs | {r['float16_cold_us_median']:.0f} µs "
                  f"| {r['float16_score_error_max']:.1e} | {r['same_best_sentence']:.3f} |"]
    if result.get("sweep"):
        lines += ["", "### Parameter sweep (real vectors)", "",
                  "| lists | searched | recall@5 PQ alone | re-ranked 50 | 100 | 200 | 400 | ms (200) |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in result["sweep"]:
            lines.append(f"| {r['nlist']} | {r['nprobe']} | {r['recall_pq_only']:.3f} | {r['recall_refine_50']:.3f} "
                         f"| {r['recall_refine_100']:.3f} | {r['recall_refine_200']:.3f} | {r['recall_refine_400']:.3f} "
                         f"| {r['ms_refine_200']:.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["embed"]:
        n = int(sys.argv[2])
        print(len(corpus_sentences()), "sentences")
        print(question_vectors().shape, "questions")
        print(corpus_vectors(n).shape)
    elif sys.argv[1:2] == ["shortlist"]:
        n = int(sys.argv[2])
        real = corpus_vectors(50_000)
        queries = np.concatenate([question_vectors(), real[-1000:]])
        rows = shortlist_at_scale(np.ascontiguousarray(real[:-1000]), queries, n)
        (WORK / f"shortlist-{n}.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    else:
        run(real=int(sys.argv[1]) if sys.argv[1:] else 200_000, scale=int(sys.argv[2]) if sys.argv[2:] else 1_000_000)
