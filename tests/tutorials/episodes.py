"""Each tutorial episode: what it runs, and what its runs produced read through a client API
(Metaflow's or ours).

The same functions summarise a run recorded with Metaflow 2.19 (``record.py``,
run by Metaflow's Python) and a run of our CLI (``test_tutorials.py``, run
with ``sfncompile``'s client), so both sides are read by the same code.
Random choices in the tutorials (``shuffle``, ``choice``) are summarised by
what must hold (the sorted playlist, the bonus pick's validity), not by the
draw.

    python episodes.py (metaflow|sfncompile) EPISODE   → one JSON document on stdout
"""

from __future__ import annotations

import hashlib
import json
import sys


def _sha(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _stdout(run) -> dict:
    return {step.id: "".join(task.stdout for task in step) for step in run}


def helloworld(client) -> dict:
    run = client.Flow("HelloFlow").latest_run
    return {"successful": run.successful, "steps": sorted(step.id for step in run), "stdout": _stdout(run)}


def _bonus_valid(bonus, titles, genres, genre) -> bool:
    return tuple(bonus) in set(zip(titles, genres)) and genre.lower() not in bonus[1].lower()


def playlist(client) -> dict:
    run = client.Flow("PlayListFlow").latest_run
    data = run.data  # the end step's: a join keeps only what it assigns (and the parameters)
    dataframe = run["start"].task.data.dataframe
    titles, genres = dataframe["movie_title"], dataframe["genres"]
    end = "".join(task.stdout for task in run["end"]).splitlines()
    return {
        "successful": run.successful,
        "genre": data.genre,
        "recommendations": data.recommendations,
        "movie_data_sha256": _sha(data.movie_data),
        "rows": len(titles),
        "dataframe_sha256": _sha(dataframe),
        "playlist_sorted": sorted(data.playlist),
        "bonus_valid": _bonus_valid(data.bonus, titles, genres, data.genre),
        "end_first_line": end[0] if end else None,
        "end_picks": sum(1 for line in end if line.startswith("Pick ")),
    }


def statistics(client) -> dict:
    run = client.Flow("MovieStatsFlow").latest_run
    stats = run.data.genre_stats
    return {
        "successful": run.successful,
        "movie_data_sha256": _sha(run.data.movie_data),
        "genres": sorted(stats),
        "quartiles": {genre: stats[genre]["quartiles"] for genre in sorted(stats)},
        "genre_stats_sha256": _sha(stats),
        "foreach_tasks": len(list(run["compute_statistics"])),
    }


def playlist_redux(client) -> dict:
    run = client.Flow("PlayListFlow").latest_run
    data = run.data
    stats = run["start"].task.data.genre_stats
    titles = [t for s in stats.values() for t in s["dataframe"]["movie_title"]]
    genres = [g for s in stats.values() for g in s["dataframe"]["genres"]]
    return {
        "successful": run.successful,
        "genre_stats_sha256": _sha(stats),
        "playlist_sorted": sorted(data.playlist),
        "bonus_valid": _bonus_valid(data.bonus, titles, genres, data.genre),
    }


def statistics_redux(client) -> dict:
    """What 06's notebook reads, without the plot: the CSV kept as an artifact, the top five medians."""
    client.namespace(None)
    run = client.Flow("MovieStatsFlow").latest_successful_run
    lines = [line for line in run.data.movie_data.split("\n") if line]
    medians = sorted(((genre, data["quartiles"][1]) for genre, data in run.data.genre_stats.items()),
                     key=lambda pair: (pair[1], pair[0]))
    return {"best_movie_line": lines[-1], "top5_medians": [list(pair) for pair in medians[-5:]]}


# episode → the runs it makes, in order, in one datastore: (flow file, parameters, run options).
# 06 is 02's flow run with `--max-workers 4` (its README's command, minus `--with kubernetes`)
# and 06's notebook read back.
RUNS = {
    "00-helloworld": [("00-helloworld/helloworld.py", {}, [])],
    "01-playlist": [("01-playlist/playlist.py", {}, [])],
    "01-playlist-comedy": [("01-playlist/playlist.py", {"genre": "Comedy", "recommendations": "3"}, [])],
    "02-statistics": [("02-statistics/stats.py", {}, [])],
    "03-playlist-redux": [("02-statistics/stats.py", {}, []), ("03-playlist-redux/playlist.py", {}, [])],
    "06-statistics-redux": [("02-statistics/stats.py", {}, ["--max-workers", "4"])],
}

EPISODES = {
    "00-helloworld": helloworld,
    "01-playlist": playlist,
    "01-playlist-comedy": playlist,
    "02-statistics": statistics,
    "03-playlist-redux": playlist_redux,
    "06-statistics-redux": statistics_redux,
}


def main() -> None:
    which, episode = sys.argv[1], sys.argv[2]
    client = __import__(which)
    json.dump(EPISODES[episode](client), sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
