package io.hashidx.bench;

import org.openjdk.jmh.annotations.Fork;

/**
 * The workloads on {@code java.util.HashMap} (in heap). No JVM flags.
 */
@Fork(1)
public class HashMapBench extends Workloads {
}
