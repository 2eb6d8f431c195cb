package io.hashidx.bench;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Which runs carry one of the goals: the (workload, peer) pairs a goal compares. The full
 * profile gives these runs its forks and iterations ({@link Profile#shape}); the report judges a
 * goal only from runs with at least {@link #MIN_FORKS} forks.
 *
 * <ul>
 * <li>random get hits: hashidx against Chronicle Map, lmdbjava, MapDB, RocksDB and fastutil;</li>
 * <li>growth: hashidx's put latency while inserting from empty, HashMap's pause beside it;</li>
 * <li>presized bulk load: hashidx against lmdbjava and Chronicle Map (and bytes per entry after it,
 * hashidx and Chronicle Map);</li>
 * <li>open under 10 ms for any file size: hashidx (both files).</li>
 * </ul>
 * Every other run (get misses, the get/overwrite mix, insert throughput, two-thread gets, cold gets,
 * the put-latency series of the other growing peers) is reported but judges no goal.
 */
public final class Goals {
    /** Forks a run needs before the report judges a goal from it. */
    public static final int MIN_FORKS = 3;

    private static final Map<Workload, Set<Peer>> PEERS = new EnumMap<>(Workload.class);

    static {
        PEERS.put(Workload.GET_HIT, EnumSet.of(Peer.HASHIDX, Peer.CHRONICLE_MAP, Peer.LMDB, Peer.MAPDB, Peer.ROCKSDB,
                Peer.FASTUTIL));
        PEERS.put(Workload.INSERT_LATENCY, EnumSet.of(Peer.HASHIDX, Peer.HASHMAP));
        PEERS.put(Workload.BULK_LOAD, EnumSet.of(Peer.HASHIDX, Peer.LMDB, Peer.CHRONICLE_MAP));
        PEERS.put(Workload.OPEN, EnumSet.of(Peer.HASHIDX));
    }

    private Goals() {
    }

    /** True when a goal is judged from {@code peer}'s run of {@code workload}. */
    public static boolean carries(Peer peer, Workload workload) {
        return PEERS.getOrDefault(workload, Set.of()).contains(peer);
    }
}
