package io.hashidx.bench;

import io.hashidx.bench.peers.ChronicleMapStore;
import io.hashidx.bench.peers.FastutilStore;
import io.hashidx.bench.peers.HashMapStore;
import io.hashidx.bench.peers.HashidxStore;
import io.hashidx.bench.peers.LmdbStore;
import io.hashidx.bench.peers.MapDbStore;
import io.hashidx.bench.peers.RocksDbStore;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The stores hashidx is measured against, with what each can do: which workloads apply to it, and
 * the benchmark class that runs it (its {@code @Fork} carries the JVM flags that peer needs).
 */
public enum Peer {
    HASHIDX("hashidx", HashidxBench.class, true, true),
    HASHMAP("java.util.HashMap", HashMapBench.class, false, true),
    FASTUTIL("fastutil", FastutilBench.class, false, true),
    CHRONICLE_MAP("Chronicle Map", ChronicleMapBench.class, true, false),
    LMDB("lmdbjava", LmdbBench.class, true, true),
    MAPDB("MapDB", MapDbBench.class, true, true),
    ROCKSDB("RocksDB", RocksDbBench.class, true, true);

    /** Name shown in the report. */
    public final String label;
    /** The JMH benchmark class that runs this peer. */
    public final Class<? extends Workloads> benchClass;
    /** True when the data lives in files (open time, bytes on disk and cold reads apply). */
    public final boolean onDisk;
    /** True when it can start empty and grow without being told its final size. */
    public final boolean grows;

    Peer(String label, Class<? extends Workloads> benchClass, boolean onDisk, boolean grows) {
        this.label = label;
        this.benchClass = benchClass;
        this.onDisk = onDisk;
        this.grows = grows;
    }

    /** Short lower-case id used in file names and on the command line. */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace("_", "");
    }

    public static Peer byId(String id) {
        for (Peer p : values()) {
            if (p.id().equals(id)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown peer " + id + "; one of " + EnumSet.allOf(Peer.class));
    }

    /** The peer whose benchmark class runs {@code benchmark} (JMH's "package.Class.method"). */
    public static Peer ofBenchmark(String benchmark) {
        String className = benchmark.substring(0, benchmark.lastIndexOf('.'));
        for (Peer p : values()) {
            if (p.benchClass.getName().equals(className)) {
                return p;
            }
        }
        throw new IllegalArgumentException("no peer runs " + benchmark);
    }

    /** The workloads that apply to this peer. */
    public Set<Workload> workloads() {
        Set<Workload> all = EnumSet.allOf(Workload.class);
        if (!onDisk) {
            all.removeAll(EnumSet.of(Workload.OPEN, Workload.COLD_GET));
        }
        if (!grows) {
            all.removeAll(EnumSet.of(Workload.INSERT, Workload.INSERT_LATENCY));
        }
        return all;
    }

    /**
     * Creates an empty store in {@code dir} (which exists and is empty). {@code expectedEntries} > 0
     * presizes it where the library can be presized; 0 means "not told": it must grow.
     */
    public KeyValueStore create(Path dir, long expectedEntries) {
        return switch (this) {
            case HASHIDX -> HashidxStore.create(dir, expectedEntries);
            case HASHMAP -> new HashMapStore(expectedEntries);
            case FASTUTIL -> new FastutilStore(expectedEntries);
            case CHRONICLE_MAP -> ChronicleMapStore.create(dir, expectedEntries);
            case LMDB -> LmdbStore.open(dir, expectedEntries, false);
            case MAPDB -> MapDbStore.open(dir, expectedEntries);
            case ROCKSDB -> RocksDbStore.open(dir, expectedEntries > 0);
        };
    }

    /**
     * Opens the existing files in {@code dir}, which hold {@code entries} entries.
     * {@code randomAccess} asks for the library's own "no read-ahead" setting where it has one
     * (LMDB's {@code MDB_NORDAHEAD}); hashidx has none, the cold-read benchmark advises its mapping.
     */
    public KeyValueStore open(Path dir, long entries, boolean randomAccess) {
        return switch (this) {
            case HASHIDX -> HashidxStore.open(dir);
            case CHRONICLE_MAP -> ChronicleMapStore.open(dir, entries);
            case LMDB -> LmdbStore.open(dir, entries, randomAccess);
            case MAPDB -> MapDbStore.open(dir, 0);
            case ROCKSDB -> RocksDbStore.open(dir, false);
            case HASHMAP, FASTUTIL -> throw new UnsupportedOperationException(label + " keeps no files");
        };
    }
}
