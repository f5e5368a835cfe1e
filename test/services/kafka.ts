import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Socket } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from './free-port.js';
import { exited, trackChild } from './child-registry.js';
import { runCommand } from './run-command.js';

/**
 * A single-node Apache Kafka broker in KRaft mode (combined broker + controller), run from the Maven
 * Central jars that `test/services/install-kafka.sh` puts under ~/.cache/fenestra/kafka-<version>/libs,
 * with the machine's Java. It listens on free 127.0.0.1 ports and keeps its log in a temp directory
 * that `stop()` removes.
 */
export interface KafkaService {
  /** `127.0.0.1:<port>` of the PLAINTEXT listener. */
  readonly bootstrap: string;
  readonly brokers: readonly string[];
  readonly version: string;
  /** Milliseconds from spawn to accepting client requests. */
  readonly startMs: number;
  /** Creates a topic (replication factor 1) and waits until every partition has a leader. */
  createTopic(topic: string, partitions: number): Promise<void>;
  /** Sum over the topic's partitions of the consumer group's committed offsets (a partition without a commit counts 0). */
  committed(groupId: string, topic: string): Promise<number>;
  stop(): Promise<void>;
}

export interface KafkaStartOptions {
  /** Extra server.properties lines (`key=value`). */
  readonly properties?: Readonly<Record<string, string | number>>;
  /** JVM heap ceiling (default 512m). */
  readonly heap?: string;
  /** How long to wait for the broker to accept requests (default 60 s). */
  readonly timeoutMs?: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const POM = join(here, 'kafka', 'pom.xml');
const INSTALL = join(here, 'install-kafka.sh');

function kafkaVersion(): string {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(POM, 'utf8'));
  if (!m) throw new Error(`kafka service: no <kafka.version> in ${POM}`);
  return m[1]!;
}

/** The directory holding the broker's jars; runs the (idempotent) installer when they are missing. */
export function kafkaLibs(): { libs: string; version: string } {
  const version = kafkaVersion();
  const home = process.env.FENESTRA_KAFKA_HOME ?? join(homedir(), '.cache', 'fenestra', `kafka-${version}`);
  const libs = join(home, 'libs');
  const ready = () => existsSync(join(home, '.complete')) && existsSync(join(libs, `kafka_2.13-${version}.jar`));
  if (!ready()) {
    const r = spawnSync('bash', [INSTALL], { encoding: 'utf8', env: process.env });
    if (r.status !== 0 || !ready()) {
      throw new Error(
        `kafka service: the Kafka ${version} jars are missing from ${libs} and ${INSTALL} could not fetch them ` +
          `(needs mvn and Maven Central): ${(r.stderr || r.stdout || String(r.error ?? '')).trim().slice(-2000)}`,
      );
    }
  }
  return { libs, version };
}

async function checkJava(): Promise<void> {
  const r = await runCommand('java', ['-version']);
  if (r.error || r.status !== 0) {
    throw new Error(`kafka service: \`java\` is not runnable (${String(r.error ?? r.stderr).trim()}); a JRE >= 17 must be on PATH`);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1', () => done(true));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function serverProperties(dir: string, port: number, controllerPort: number, extra: KafkaStartOptions['properties']): string {
  const props: Record<string, string | number> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(dir, 'data'),
    'num.partitions': 1,
    'auto.create.topics.enable': 'false',
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 4,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    // Tests restart killed consumers often: let them use short sessions so a dead member leaves quickly.
    'group.min.session.timeout.ms': 1000,
    'num.network.threads': 2,
    'num.io.threads': 2,
    ...extra,
  };
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

const LOG4J2 = [
  'rootLogger.level=WARN',
  'rootLogger.appenderRef.out.ref=out',
  'appender.out.type=Console',
  'appender.out.name=out',
  'appender.out.layout.type=PatternLayout',
  'appender.out.layout.pattern=[%d] %p %m (%c)%n',
  '',
].join('\n');

async function startOnce(opts: KafkaStartOptions, libs: string, version: string): Promise<KafkaService> {
  const dir = mkdtempSync(join(tmpdir(), 'fenestra-kafka-'));
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const propsFile = join(dir, 'server.properties');
  const log4j = join(dir, 'log4j2.properties');
  writeFileSync(propsFile, serverProperties(dir, port, controllerPort, opts.properties));
  writeFileSync(log4j, LOG4J2);
  const cp = `${libs}/*`;
  const jvm = [`-Xmx${opts.heap ?? '512m'}`, '-Xms64m', '-XX:+UseSerialGC', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${log4j}`, '-cp', cp];

  const clusterId = await runCommand('java', [...jvm, 'kafka.tools.StorageTool', 'random-uuid']);
  const id = clusterId.stdout.trim().split('\n').pop() ?? '';
  if (clusterId.status !== 0 || !/^[A-Za-z0-9_-]{22}$/.test(id)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`kafka service: StorageTool random-uuid failed: ${clusterId.stderr || clusterId.stdout}`);
  }
  const format = await runCommand('java', [...jvm, 'kafka.tools.StorageTool', 'format', '-t', id, '-c', propsFile]);
  if (format.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`kafka service: StorageTool format failed: ${format.stderr || format.stdout}`);
  }

  const t0 = Date.now();
  let output = '';
  const child: ChildProcess = spawn('java', [...jvm, 'kafka.Kafka', propsFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  const keep = (b: Buffer) => {
    output = (output + b.toString('utf8')).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = t0 + (opts.timeoutMs ?? 60_000);
  const bootstrap = `127.0.0.1:${port}`;
  const admin = new Kafka({ clientId: 'fenestra-test-harness', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`kafka service: the broker exited (${child.exitCode ?? child.signalCode}) before accepting connections:\n${output.slice(-4000)}`);
      }
      if (Date.now() > deadline) throw new Error(`kafka service: the broker did not accept requests within ${opts.timeoutMs ?? 60_000} ms:\n${output.slice(-4000)}`);
      if (await canConnect(port)) {
        try {
          await admin.connect();
          const cluster = await admin.describeCluster();
          if (cluster.brokers.length > 0) break;
        } catch {
          /* not ready yet */
        }
      }
      await sleep(150);
    }
  } catch (e) {
    await admin.disconnect().catch(() => undefined);
    await stop();
    throw e;
  }
  const startMs = Date.now() - t0;

  return {
    bootstrap,
    brokers: [bootstrap],
    version,
    startMs,
    async createTopic(topic: string, partitions: number) {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
      for (;;) {
        const md = await admin.fetchTopicMetadata({ topics: [topic] });
        const ps = md.topics[0]?.partitions ?? [];
        if (ps.length === partitions && ps.every((p) => p.leader >= 0)) return;
        await sleep(100);
      }
    },
    async committed(groupId: string, topic: string) {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return (t?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    },
    async stop() {
      await admin.disconnect().catch(() => undefined);
      await stop();
    },
  };
}

/**
 * Starts a broker; retries with new ports when another process took one between probe and bind.
 * Throws an error naming what is missing (Java, Maven, the jars) when it cannot start.
 */
export async function startKafka(opts: KafkaStartOptions = {}): Promise<KafkaService> {
  await checkJava();
  const { libs, version } = kafkaLibs();
  if (readdirSync(libs).length === 0) throw new Error(`kafka service: ${libs} is empty; run ${INSTALL}`);
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(opts, libs, version);
    } catch (e) {
      last = e;
      if (!/Address already in use|BindException/.test(String((e as Error).message))) break;
    }
  }
  throw last;
}
