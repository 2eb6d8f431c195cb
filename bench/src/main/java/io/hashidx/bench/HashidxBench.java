package io.hashidx.bench;

import org.openjdk.jmh.annotations.Fork;

/**
 * The workloads on hashidx. No JVM flags: hashidx needs none.
 */
@Fork(1)
public class HashidxBench extends Workloads {
}
