package io.hashidx.bench;

import io.hashidx.bench.peers.HashidxStore;
import io.hashidx.store.HashIndex;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The workloads of {@link ConcurrencyBenchmark} measured per CPU-second as well as per second, for a
 * machine that other work shares: there, wall-clock throughput says how much CPU the run was given as
 * much as what the code does. Each reader counts its gets and its own CPU time ({@link ThreadMXBean});
 * gets per CPU-second of a thread is the cost of a get, which lock-free reads keep the same with 1 or 2
 * readers and beside a writer (a lock, or a shared counter written by every reader, would raise it).
 * The three workloads take turns for {@code rounds} rounds, so a change in the machine's load meets
 * all of them.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.hashidx.bench.ReadScalingProbe [entries] [seconds] [rounds]</pre>
 */
public final class ReadScalingProbe {
    private ReadScalingProbe() {
    }

    private record Figures(long readerOps, long readerCpuNanos, long writerOps, long wallNanos) {
    }

    public static void main(String[] args) throws Exception {
        int entries = args.length > 0 ? Integer.parseInt(args[0]) : 10_000_000;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (HashIndex index = HashIndex.open(Fixtures.loaded(Peer.HASHIDX, entries).resolve(HashidxStore.FILE))) {
            run(index, entries, 1, false, 1.0, mx); // warm-up
            run(index, entries, 2, false, 1.0, mx);
            run(index, entries, 1, true, 1.0, mx);
            long[][] sums = new long[3][4];
            for (int r = 0; r < rounds; r++) {
                Figures[] f = {run(index, entries, 1, false, seconds, mx), run(index, entries, 2, false, seconds, mx),
                        run(index, entries, 1, true, seconds, mx)};
                for (int w = 0; w < 3; w++) {
                    sums[w][0] += f[w].readerOps();
                    sums[w][1] += f[w].readerCpuNanos();
                    sums[w][2] += f[w].writerOps();
                    sums[w][3] += f[w].wallNanos();
                }
                System.out.printf("round %d: get1 %,.0f/s  get2 %,.0f/s  mix reads %,.0f/s, writes %,.0f/s%n", r + 1,
                        perSecond(f[0].readerOps(), f[0].wallNanos()), perSecond(f[1].readerOps(), f[1].wallNanos()),
                        perSecond(f[2].readerOps(), f[2].wallNanos()), perSecond(f[2].writerOps(), f[2].wallNanos()));
            }
            String[] names = {"get1 (1 reader)", "get2 (2 readers)", "mix (1 reader beside 1 writer)"};
            System.out.printf("%n%-32s %16s %22s %16s%n", "workload", "reads/s (wall)", "reads per CPU-second", "writes/s (wall)");
            for (int w = 0; w < 3; w++) {
                System.out.printf("%-32s %,16.0f %,22.0f %,16.0f%n", names[w], perSecond(sums[w][0], sums[w][3]),
                        perSecond(sums[w][0], sums[w][1]), perSecond(sums[w][2], sums[w][3]));
            }
            double one = perSecond(sums[0][0], sums[0][1]);
            System.out.printf("%nper CPU-second of a reader: 2 readers %.2f of 1 reader; beside a writer %.2f of alone%n",
                    perSecond(sums[1][0], sums[1][1]) / one, perSecond(sums[2][0], sums[2][1]) / one);
            System.out.printf("wall clock: 2 readers %.2fx 1 reader; reads beside a writer %.2fx alone; load average %.2f%n",
                    perSecond(sums[1][0], sums[1][3]) / perSecond(sums[0][0], sums[0][3]),
                    perSecond(sums[2][0], sums[2][3]) / perSecond(sums[0][0], sums[0][3]),
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    private static double perSecond(long ops, long nanos) {
        return nanos == 0 ? 0 : ops * 1e9 / nanos;
    }

    private static Figures run(HashIndex index, int entries, int readers, boolean writer, double seconds, ThreadMXBean mx)
            throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        int threads = readers + (writer ? 1 : 0);
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        long[] ops = new long[threads];
        long[] cpu = new long[threads];
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            boolean writes = writer && t == readers;
            Thread th = new Thread(() -> {
                SplittableRandom random = new SplittableRandom(id * 7919L + System.nanoTime());
                byte[] key = new byte[Keys.KEY_BYTES];
                byte[] value = new byte[Keys.VALUE_BYTES];
                long n = 0;
                long version = 0;
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                long cpu0 = mx.getCurrentThreadCpuTime();
                while (!stop.get()) {
                    for (int i = 0; i < 256; i++) {
                        int k = random.nextInt(entries);
                        Keys.key(k, key);
                        if (writes) {
                            Keys.value(k, ++version, value);
                            index.put(key, value);
                        } else if (index.get(key, value) < 0) {
                            throw new IllegalStateException("key " + k + " missing");
                        }
                    }
                    n += 256;
                }
                cpu[id] = mx.getCurrentThreadCpuTime() - cpu0;
                ops[id] = n;
            });
            th.start();
            all.add(th);
        }
        start.await();
        long t0 = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        for (Thread th : all) {
            th.join();
        }
        long wall = System.nanoTime() - t0;
        long readerOps = 0;
        long readerCpu = 0;
        for (int t = 0; t < readers; t++) {
            readerOps += ops[t];
            readerCpu += cpu[t];
        }
        return new Figures(readerOps, readerCpu, writer ? ops[readers] : 0, wall);
    }
}
