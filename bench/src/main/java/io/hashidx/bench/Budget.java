package io.hashidx.bench;

import java.util.Collection;
import java.util.EnumSet;
import java.util.Set;

/**
 * How long a run of the suite takes, estimated before it starts from the profile's iteration
 * counts and the rates the smoke run measured on the 2-core machine the suite was written on, while
 * four other engineers built and tested on it (so the rates are on the slow side). {@link Suite} prints the sum; each run's real time is written
 * beside the estimate in {@code runs.jsonl}.
 */
final class Budget {
    /** JVM start, JMH fork set-up and JIT warm-up of one fork. */
    static final double FORK_SECONDS = 2.5;

    /** What a fork of this peer adds at start (Chronicle Map generates and compiles classes: ~8 s here). */
    static double startSeconds(Peer p) {
        return p == Peer.CHRONICLE_MAP ? 8 : 0;
    }

    private Budget() {
    }

    /** Puts per second into an empty store that grows, with the latency recorder or without. */
    static double insertRate(Peer p) {
        return switch (p) {
            case HASHIDX -> 400_000;
            case HASHMAP, FASTUTIL -> 900_000;
            case CHRONICLE_MAP -> 130_000;
            case LMDB -> 70_000;
            case MAPDB -> 50_000;
            case ROCKSDB -> 100_000;
        };
    }

    /** Entries per second of the presized bulk load, sync included. */
    static double bulkRate(Peer p) {
        return switch (p) {
            case HASHIDX -> 375_000;
            case HASHMAP, FASTUTIL -> 1_900_000;
            case CHRONICLE_MAP -> 130_000;
            case LMDB -> 1_000_000;
            case MAPDB -> 50_000;
            case ROCKSDB -> 180_000;
        };
    }

    /**
     * Seconds of one JMH run of {@code r} under {@code profile}: its forks, warm-ups and measured
     * iterations are those it runs with, {@link Suite.Run#shape()} (from {@link Profile#shape}).
     */
    static double seconds(Profile profile, Suite.Run r) {
        int n = profile.entries();
        Peer p = r.peer();
        Profile.Shape shape = r.shape();
        int iterations = shape.warmups() + shape.iterations();
        double perFork = FORK_SECONDS + startSeconds(p);
        switch (r.workload()) {
            case GET_HIT, GET_MISS, GET_OR_OVERWRITE, GET_HIT_TWO_THREADS -> {
                perFork += p.onDisk ? 1 : n / bulkRate(p) + 1;
                perFork += shape.warmups() * profile.warmupSeconds() + shape.iterations() * profile.iterationSeconds();
            }
            case INSERT, INSERT_LATENCY -> perFork += iterations * (n / insertRate(p) + 0.5);
            case BULK_LOAD -> perFork += iterations * (n / bulkRate(p) + 0.5);
            case OPEN -> perFork += iterations * 0.1 + 0.5;
            case COLD_GET -> {
                // 200k warm-up gets, then per iteration: close, evict, reopen, three residency scans, the gets
                // (a read-ahead window of up to 8 MiB each here)
                double scan = 0.02 * n / 1e6;
                perFork += 200_000 / Math.max(bulkRate(p), 200_000) + iterations * (0.08 + scan + profile.coldGets() * 0.02);
            }
        }
        return shape.forks() * perFork;
    }

    /** Seconds to build the loaded files the runs read (once per run and peer, plus hashidx's 1 GiB+ file). */
    static double fixtureSeconds(Profile profile, Collection<Suite.Run> runs) {
        Set<Peer> loaded = EnumSet.noneOf(Peer.class);
        double s = 0;
        for (Suite.Run r : runs) {
            if (r.peer().onDisk && !r.workload().name().startsWith("INSERT") && r.workload() != Workload.BULK_LOAD
                    && loaded.add(r.peer())) {
                s += profile.entries() / bulkRate(r.peer()) + 1 + startSeconds(r.peer());
            }
            if (r.variant().equals("big")) {
                s += Integer.parseInt(r.params().get("openEntries")) / bulkRate(r.peer()) + 1;
            }
        }
        return s;
    }
}
