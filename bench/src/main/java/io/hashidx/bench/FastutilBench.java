package io.hashidx.bench;

import org.openjdk.jmh.annotations.Fork;

/**
 * The workloads on fastutil's {@code Object2ObjectOpenCustomHashMap} (in heap). No JVM flags.
 */
@Fork(1)
public class FastutilBench extends Workloads {
}
