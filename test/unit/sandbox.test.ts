/**
 * Probes the sandbox over real HTTP, with requests shaped like the API document's examples, so the
 * rest of the test suite can trust it to behave like the service.
 */
import * as assert from 'node:assert/strict';
import * as http from 'node:http';

import { SANDBOX_API_KEY, startSandbox, type Sandbox } from '../sandbox/server';

interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

interface CallOptions {
  /** `null` sends no Authorization header; a string replaces the whole header value. */
  authorization?: string | null;
  body?: string | Buffer;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  agent?: http.Agent | false;
}

interface ErrorBody {
  error: { code: string; message: string };
}

interface CreateReply {
  runId: string;
  createdAt: number;
  status: string;
  progress: number;
  pollUrl: string;
}

interface PollReply {
  runId: string;
  status: string;
  progress: number;
  createdAt: number;
  startedAt?: number;
  completedAt?: number;
  chargedCost?: number;
  outputs?: { outputId: string; type: string; url: string }[];
  errorCode?: string;
  errorMessage?: string;
}

interface DetailsReply {
  techniqueId: string;
  name: string;
  description: string;
  runCost: number;
  inputs: { id: string; name: string; type: string }[];
  outputs: { id: string; name: string; type: string }[];
}

/** The document's "Available techniques" table, copied independently of the sandbox's catalogue. */
const documentedTechniques: readonly [string, string, string][] = [
  ['art-directors-critique', "Art Director's Critique", 'Analyze, critique, and redesign any creative asset.'],
  ['auto-translate', 'Auto Translate', 'Translate text in images instantly'],
  ['book-drop', 'Book Drop', 'Mocks up front and back book covers'],
  ['cctv-cam', 'CCTV Cam', 'Any face, CCTV style'],
  ['character-lock', 'Character Lock', 'One character, 6 different angles'],
  ['cinematic-movie-generator', 'Cinematic Movie Stills', 'Generate film-quality scene stills'],
  ['color-mapping', 'Segment Mapper', 'Color-codes every element in your image'],
  ['color-transfer', 'Color Transfer', 'Apply color grading from any reference'],
  ['earth-zoom-out', 'Earth Zoom Out', 'Zoom out to space from any scene'],
  ['facade-swap', 'Facade Swap', 'Reskin buildings with new materials'],
  ['fit-checks', 'Fit Check', 'Extract outfits & swap onto new looks'],
  ['glam-shots', 'Glam Shots', 'Create polished makeup ads instantly'],
  ['icon-pack', 'Icon Pack', 'Generate matched icon sets from a prompt'],
  ['live-like-an-amsterdammer', 'Live like an Amsterdammer', 'Places you into everyday Amsterdam scenes'],
  ['location-scouter', 'Location Scout', 'Scouts five views from a single location'],
  ['logo-stylist', 'Logo Stylist', 'Stylize any logo with a new visual twist'],
  ['memoji-me', 'Memoji Me', 'Turn any face into a custom memoji'],
  ['moodboard-maker', 'Mood Board Maker', 'Eclectic mood board from a photo'],
  ['mugshot', 'Mugshot', 'Turn any portrait into a mugshot'],
  ['palette-pull', 'Palette Pull', 'Extract color palettes from any image'],
  ['product-animator', 'Product Animator', 'Animate your product'],
  ['product-lookbook-grid', 'Product Lookbook Grid', 'Turn products into styled grid layouts'],
  ['product-motion', 'Product Motion', 'Animate product shots in one click'],
  ['quick-reframe', 'Layout Resizer', 'Resize layouts for any aspect ratio'],
  ['relight-technique', 'Relighting', 'Relights your photo'],
  ['room-render', 'Room Render', 'Turn floor plans into realistic rooms'],
  ['seamless-transition', 'Seamless Transition', 'Animate between any two frames'],
  ['sigil', 'Sigil', 'Turns any image into an animated glyph'],
  ['sketch-to-garment', 'Garment Sketch', 'One sketch, one final garment.'],
  ['studio-blur', 'Studio Blur', 'Add pro depth-of-field blur to photos'],
  ['studio-shot', 'Studio Shot', 'Turns any product into a studio-lit shoot'],
  ['tarot-pull', 'Tarot Pull', 'Custom illustrated tarot card readings'],
  ['texture-matchers', 'Texture Match', 'Replicate textures & colors across assets'],
  ['turn-any-product-into-4-ad-visuals', 'Turn any product into 4 ad visuals', 'Make a full ad campaign from 1 product'],
  ['ugc-creation', 'UGC Creator', 'Casual, phone-shot clips of your product'],
  ['video-scene-builder', 'Video Scene Builder', 'Compose video scenes from still assets'],
  ['wireframe', 'Photo Wireframe', 'Turn any photo into a clean wireframe'],
  ['wonder-fy', 'Wonder(fy)', "Apply Wonder's cinematic style to images"],
];

const RUN_DURATION_MS = 800;
const PHOTO = 'https://media.flora.ai/uploads/photo.jpg';

let sandbox: Sandbox;
let agent: http.Agent;

function call(method: string, target: string, options: CallOptions = {}): Promise<HttpResult> {
  const url = new URL(target, sandbox.url);
  const headers: Record<string, string> = { ...options.headers };
  if (options.authorization !== null) {
    headers.Authorization = options.authorization ?? `Bearer ${sandbox.apiKey}`;
  }
  if (options.body !== undefined) {
    headers['Content-Type'] ??= 'application/json';
  }
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers, agent: options.agent ?? agent, signal: options.signal }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body, text: body.toString('utf8') });
      });
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

function json<T>(result: HttpResult): T {
  assert.match(String(result.headers['content-type']), /^application\/json/);
  return JSON.parse(result.text) as T;
}

function assertError(result: HttpResult, status: number, code: string): ErrorBody {
  assert.equal(result.status, status, result.text);
  const body = json<ErrorBody>(result);
  assert.deepEqual(Object.keys(body), ['error']);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  return body;
}

function runsPath(slug: string): string {
  return `/api/v1/techniques/${slug}/runs`;
}

function createBody(inputs: { id: string; type: string; value: unknown }[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ inputs, mode: 'async', ...extra });
}

function studioShotBody(value: string = PHOTO, extra: Record<string, unknown> = {}): string {
  return createBody([{ id: 'product_image', type: 'imageUrl', value }], extra);
}

async function createRun(slug: string, body: string): Promise<CreateReply> {
  const result = await call('POST', runsPath(slug), { body });
  assert.equal(result.status, 201, result.text);
  return json<CreateReply>(result);
}

async function poll(run: CreateReply): Promise<PollReply> {
  const result = await call('GET', run.pollUrl);
  assert.equal(result.status, 200, result.text);
  return json<PollReply>(result);
}

async function waitUntilFinished(run: CreateReply, timeoutMs = RUN_DURATION_MS * 5): Promise<PollReply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await poll(run);
    if (reply.status === 'completed' || reply.status === 'failed') {
      return reply;
    }
    assert.ok(Date.now() < deadline, `run ${run.runId} still ${reply.status} after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** Charges are global, so tests that count them first let every earlier run finish. */
async function waitForAllRunsToFinish(): Promise<void> {
  const deadline = Date.now() + RUN_DURATION_MS * 5;
  while (sandbox.runs().some((run) => run.status === 'pending' || run.status === 'running')) {
    assert.ok(Date.now() < deadline, 'earlier runs did not finish');
    await sleep(25);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail('expected the request to fail');
}

describe('sandbox', function () {
  this.timeout(20_000);

  before(async () => {
    sandbox = await startSandbox({ runDurationMs: RUN_DURATION_MS, credits: 100_000 });
    agent = new http.Agent({ keepAlive: true });
  });

  after(async () => {
    agent.destroy();
    await sandbox.close();
  });

  afterEach(() => {
    sandbox.faults.clear();
  });

  describe('technique details', () => {
    it('answers with exactly the documented fields', async () => {
      const result = await call('GET', '/api/v1/techniques/studio-shot');
      assert.equal(result.status, 200);
      const details = json<DetailsReply>(result);
      assert.deepEqual(Object.keys(details), ['techniqueId', 'name', 'description', 'runCost', 'inputs', 'outputs']);
      assert.equal(details.name, 'Studio Shot');
      assert.ok(details.techniqueId.length > 0);
      assert.ok(Number.isInteger(details.runCost) && details.runCost > 0);
      assert.deepEqual(details.inputs, [{ id: 'product_image', name: 'Product Image', type: 'imageUrl' }]);
      for (const field of [...details.inputs, ...details.outputs]) {
        assert.deepEqual(Object.keys(field), ['id', 'name', 'type']);
      }
    });

    it('serves every documented technique with its name and description', async () => {
      for (const [slug, name, description] of documentedTechniques) {
        const details = json<DetailsReply>(await call('GET', `/api/v1/techniques/${slug}`));
        assert.equal(details.name, name, slug);
        assert.equal(details.description, description, slug);
        assert.ok(details.inputs.length > 0 && details.outputs.length > 0, slug);
        assert.ok(details.runCost >= 2 && details.runCost <= 25, slug);
      }
    });

    it('covers every input type, several inputs, and image, video and text outputs', async () => {
      const types = async (slug: string): Promise<[string[], string[]]> => {
        const details = json<DetailsReply>(await call('GET', `/api/v1/techniques/${slug}`));
        return [details.inputs.map((input) => input.type), details.outputs.map((output) => output.type)];
      };
      assert.deepEqual(await types('icon-pack'), [['text'], ['imageUrl', 'imageUrl', 'imageUrl', 'imageUrl']]);
      assert.deepEqual(await types('product-animator'), [['imageUrl', 'text'], ['videoUrl']]);
      assert.deepEqual(await types('seamless-transition'), [['imageUrl', 'imageUrl', 'text'], ['videoUrl']]);
      assert.deepEqual(await types('ugc-creation'), [['videoUrl', 'text'], ['videoUrl']]);
      assert.deepEqual(await types('palette-pull'), [['imageUrl'], ['imageUrl', 'text']]);
      assert.deepEqual(await types('relight-technique'), [['imageUrl', 'text'], ['imageUrl']]);
    });
  });

  describe('runs', () => {
    it('creates a run with the documented 201 reply and an absolute pollUrl', async () => {
      const result = await call('POST', runsPath('studio-shot'), { body: studioShotBody() });
      assert.equal(result.status, 201, result.text);
      const run = json<CreateReply>(result);
      assert.deepEqual(Object.keys(run), ['runId', 'createdAt', 'status', 'progress', 'pollUrl']);
      assert.match(run.runId, /^j57[a-z0-9]+$/);
      assert.equal(run.status, 'pending');
      assert.equal(run.progress, 0);
      assert.ok(Math.abs(run.createdAt - Date.now()) < 5_000);
      assert.equal(run.pollUrl, `${sandbox.url}/api/v1/techniques/studio-shot/runs/${run.runId}`);
    });

    it('goes from pending through running to completed, with outputs and the charged cost', async () => {
      await waitForAllRunsToFinish();
      const creditsBefore = sandbox.credits;
      const chargesBefore = sandbox.charges();
      const run = await createRun('icon-pack', createBody([{ id: 'prompt', type: 'text', value: 'weather icons, line style' }]));
      const seen = new Set<string>();
      let lastProgress = 0;
      let finished: PollReply | undefined;
      while (finished === undefined) {
        const reply = await poll(run);
        seen.add(reply.status);
        assert.ok(reply.progress >= lastProgress, 'progress never goes back');
        lastProgress = reply.progress;
        if (reply.status === 'running') {
          assert.ok(reply.progress >= 0 && reply.progress < 100);
          assert.equal(typeof reply.startedAt, 'number');
          assert.equal(reply.outputs, undefined);
        }
        if (reply.status === 'completed') {
          finished = reply;
        }
        await sleep(20);
      }
      assert.deepEqual([...seen], ['pending', 'running', 'completed']);
      assert.deepEqual(Object.keys(finished), [
        'runId',
        'status',
        'progress',
        'createdAt',
        'startedAt',
        'completedAt',
        'chargedCost',
        'outputs',
      ]);
      assert.equal(finished.progress, 100);
      assert.equal(finished.chargedCost, 8);
      assert.ok(finished.createdAt <= (finished.startedAt ?? 0) && (finished.startedAt ?? 0) <= (finished.completedAt ?? 0));
      assert.deepEqual(
        finished.outputs?.map((output) => [output.outputId, output.type]),
        [1, 2, 3, 4].map((index) => [`icon_${index}`, 'imageUrl']),
      );
      assert.equal(sandbox.charges(), chargesBefore + 1);
      assert.equal(sandbox.credits, creditsBefore - 8);
    });

    it('reports progress that grows while running', async () => {
      const run = await createRun('studio-shot', studioShotBody());
      const progress: number[] = [];
      for (;;) {
        const reply = await poll(run);
        if (reply.status === 'running') {
          progress.push(reply.progress);
        }
        if (reply.status === 'completed') {
          break;
        }
        await sleep(20);
      }
      assert.ok(
        progress.some((value) => value > 0 && value < 100),
        `progress seen: ${progress.join(',')}`,
      );
      assert.ok(progress[progress.length - 1] > progress[0]);
    });

    it('returns the same run for a repeated idempotency_key and charges it once', async () => {
      await waitForAllRunsToFinish();
      const chargesBefore = sandbox.charges();
      const runCountBefore = sandbox.runs().length;
      const body = studioShotBody(PHOTO, { idempotency_key: 'retry-key-1' });
      const first = await createRun('studio-shot', body);
      const repeat = await call('POST', runsPath('studio-shot'), { body });
      assert.equal(repeat.status, 200);
      const repeated = json<CreateReply>(repeat);
      assert.deepEqual(Object.keys(repeated), ['runId', 'createdAt', 'status', 'progress', 'pollUrl']);
      assert.equal(repeated.runId, first.runId);
      await waitUntilFinished(first);
      const afterCompletion = json<CreateReply>(await call('POST', runsPath('studio-shot'), { body }));
      assert.equal(afterCompletion.runId, first.runId);
      assert.equal(afterCompletion.status, 'completed');
      assert.equal(sandbox.runs().length, runCountBefore + 1);
      assert.equal(sandbox.charges(), chargesBefore + 1);
      assert.equal(sandbox.runs().find((run) => run.runId === first.runId)?.idempotencyKey, 'retry-key-1');
    });

    it('ends runs as failed with the configured error and charges nothing when failRuns is set', async () => {
      await waitForAllRunsToFinish();
      const chargesBefore = sandbox.charges();
      const creditsBefore = sandbox.credits;
      sandbox.faults.failRuns = { errorCode: 'generation_failed', errorMessage: 'The model gave up' };
      const run = await createRun('studio-shot', studioShotBody());
      sandbox.faults.failRuns = undefined;
      const finished = await waitUntilFinished(run);
      assert.equal(finished.status, 'failed');
      assert.equal(finished.errorCode, 'generation_failed');
      assert.equal(finished.errorMessage, 'The model gave up');
      assert.equal(finished.chargedCost, undefined);
      assert.equal(finished.outputs, undefined);
      assert.equal(sandbox.charges(), chargesBefore);
      assert.equal(sandbox.credits, creditsBefore);
      assert.equal(sandbox.runs().find((snapshot) => snapshot.runId === run.runId)?.status, 'failed');
    });

    it('fails a run whose text input asks to fail', async () => {
      const run = await createRun('icon-pack', createBody([{ id: 'prompt', type: 'text', value: 'please fail' }]));
      const finished = await waitUntilFinished(run);
      assert.equal(finished.status, 'failed');
      assert.equal(typeof finished.errorCode, 'string');
    });

    it('snapshots runs with their inputs', async () => {
      const run = await createRun(
        'relight-technique',
        createBody([
          { id: 'photo', type: 'imageUrl', value: PHOTO },
          { id: 'lighting_prompt', type: 'text', value: 'golden hour' },
        ]),
      );
      const snapshot = sandbox.runs().find((candidate) => candidate.runId === run.runId);
      assert.ok(snapshot);
      assert.equal(snapshot.slug, 'relight-technique');
      assert.equal(snapshot.createdAt, run.createdAt);
      assert.deepEqual(snapshot.inputs, [
        { id: 'photo', type: 'imageUrl', value: PHOTO },
        { id: 'lighting_prompt', type: 'text', value: 'golden hour' },
      ]);
    });
  });

  describe('errors', () => {
    it('answers a missing Authorization header with 401 unauthorized', async () => {
      assertError(await call('GET', '/api/v1/techniques/studio-shot', { authorization: null }), 401, 'unauthorized');
      assertError(await call('POST', runsPath('studio-shot'), { authorization: null, body: studioShotBody() }), 401, 'unauthorized');
    });

    it('answers a malformed Authorization header with 401 unauthorized', async () => {
      assertError(await call('GET', '/api/v1/techniques/studio-shot', { authorization: SANDBOX_API_KEY }), 401, 'unauthorized');
      assertError(await call('GET', '/api/v1/techniques/studio-shot', { authorization: 'Basic abc' }), 401, 'unauthorized');
    });

    it('answers a wrong key with 401 invalid_api_key, before looking at the slug', async () => {
      assertError(await call('GET', '/api/v1/techniques/studio-shot', { authorization: 'Bearer sk_live_wrong' }), 401, 'invalid_api_key');
      assertError(
        await call('GET', '/api/v1/techniques/no-such-technique', { authorization: 'Bearer sk_live_wrong' }),
        401,
        'invalid_api_key',
      );
    });

    it('answers a body that is not JSON with 400 invalid_json', async () => {
      assertError(await call('POST', runsPath('studio-shot'), { body: '{"inputs": [' }), 400, 'invalid_json');
      assertError(await call('POST', runsPath('studio-shot'), { body: '' }), 400, 'invalid_json');
    });

    it('answers wrong inputs with 400 input_validation_error naming the input', async () => {
      const cases: [string, string, RegExp][] = [
        ['wrong count', createBody([]), /product_image/],
        [
          'too many',
          createBody([
            { id: 'product_image', type: 'imageUrl', value: PHOTO },
            { id: 'extra', type: 'text', value: 'x' },
          ]),
          /product_image/,
        ],
        ['unknown id', createBody([{ id: 'input_image', type: 'imageUrl', value: PHOTO }]), /input_image/],
        ['wrong type', createBody([{ id: 'product_image', type: 'videoUrl', value: PHOTO }]), /product_image.*imageUrl/],
        ['invalid type', createBody([{ id: 'product_image', type: 'image', value: PHOTO }]), /product_image/],
        ['missing value', JSON.stringify({ inputs: [{ id: 'product_image', type: 'imageUrl' }], mode: 'async' }), /product_image/],
        ['http URL', studioShotBody('http://media.flora.ai/photo.jpg'), /product_image.*https/],
        ['look-alike host', studioShotBody('https://media.flora.ai.evil.com/photo.jpg'), /product_image.*media\.flora\.ai\.evil\.com/],
        ['not a URL', studioShotBody('photo.jpg'), /product_image/],
        ['missing mode', JSON.stringify({ inputs: [{ id: 'product_image', type: 'imageUrl', value: PHOTO }] }), /mode.*async/],
        ['other mode', studioShotBody(PHOTO, { mode: 'sync' }), /mode.*async/],
        ['inputs not an array', JSON.stringify({ inputs: {}, mode: 'async' }), /inputs/],
        ['body not an object', '[1, 2]', /object/],
        ['bad idempotency_key', studioShotBody(PHOTO, { idempotency_key: 42 }), /idempotency_key/],
      ];
      for (const [label, body, message] of cases) {
        const error = assertError(await call('POST', runsPath('studio-shot'), { body }), 400, 'input_validation_error');
        assert.match(error.error.message, message, label);
      }
      const emptyText = createBody([{ id: 'prompt', type: 'text', value: '   ' }]);
      const error = assertError(await call('POST', runsPath('icon-pack'), { body: emptyText }), 400, 'input_validation_error');
      assert.match(error.error.message, /prompt.*empty/);
      const duplicate = createBody([
        { id: 'start_frame', type: 'imageUrl', value: PHOTO },
        { id: 'start_frame', type: 'imageUrl', value: PHOTO },
        { id: 'transition_prompt', type: 'text', value: 'morph' },
      ]);
      const duplicateError = assertError(
        await call('POST', runsPath('seamless-transition'), { body: duplicate }),
        400,
        'input_validation_error',
      );
      assert.match(duplicateError.error.message, /start_frame/);
    });

    it('answers an unknown slug or run id with 404 not_found', async () => {
      assertError(await call('GET', '/api/v1/techniques/portrait-enhancer'), 404, 'not_found');
      assertError(await call('POST', runsPath('portrait-enhancer'), { body: studioShotBody() }), 404, 'not_found');
      assertError(await call('GET', `${runsPath('studio-shot')}/j57doesnotexist`), 404, 'not_found');
      const run = await createRun('studio-shot', studioShotBody());
      assertError(await call('GET', `${runsPath('studio-blur')}/${run.runId}`), 404, 'not_found');
    });

    it('answers a create without enough credits with 402 insufficient_credits and creates nothing', async () => {
      const credits = sandbox.credits;
      const runCount = sandbox.runs().length;
      sandbox.credits = 4; // studio-shot costs 5
      try {
        assertError(await call('POST', runsPath('studio-shot'), { body: studioShotBody() }), 402, 'insufficient_credits');
        assert.equal(sandbox.runs().length, runCount);
        await createRun('studio-blur', createBody([{ id: 'input_image', type: 'imageUrl', value: PHOTO }]));
      } finally {
        sandbox.credits = credits;
      }
    });

    it('answers unknown paths, wrong methods, bad encodings and huge bodies without crashing', async () => {
      assertError(await call('GET', '/nothing-here', { authorization: null }), 404, 'not_found');
      assertError(await call('GET', '/api/v1/techniques/%E0%A4%A'), 404, 'not_found');
      assertError(await call('GET', '/api/v1/techniques'), 404, 'not_found');
      assertError(await call('DELETE', '/api/v1/techniques/studio-shot'), 405, 'method_not_allowed');
      assertError(await call('GET', runsPath('studio-shot')), 405, 'method_not_allowed');
      const huge = Buffer.alloc(2 * 1024 * 1024, 'a');
      assertError(await call('POST', runsPath('studio-shot'), { body: huge, agent: false }), 413, 'payload_too_large');
      assert.equal((await call('GET', '/api/v1/techniques/studio-shot')).status, 200);
    });

    it('makes the old key invalid after rotation', async () => {
      const oldKey = sandbox.apiKey;
      sandbox.apiKey = 'sk_live_rotated_key';
      try {
        assertError(await call('GET', '/api/v1/techniques/studio-shot', { authorization: `Bearer ${oldKey}` }), 401, 'invalid_api_key');
        const result = await call('GET', '/api/v1/techniques/studio-shot', {
          authorization: 'Bearer sk_live_rotated_key',
        });
        assert.equal(result.status, 200);
      } finally {
        sandbox.apiKey = oldKey;
      }
    });
  });

  describe('input media hosts', () => {
    const accepted = [
      'https://media.flora.ai/uploads/a.png',
      'https://storage.googleapis.com/bucket/a.png',
      'https://my-bucket.storage.googleapis.com/a.png',
      'https://my-bucket.s3.amazonaws.com/a.png',
      'https://my-bucket.s3.eu-west-1.amazonaws.com/a.png',
      'https://my-bucket.s3-eu-west-1.amazonaws.com/a.png',
      'https://s3.amazonaws.com/my-bucket/a.png',
      'https://s3.us-east-2.amazonaws.com/my-bucket/a.png',
      'https://s3-us-west-2.amazonaws.com/my-bucket/a.png',
      'https://s3.dualstack.ap-southeast-1.amazonaws.com/my-bucket/a.png',
      'https://my-bucket.s3.dualstack.us-gov-west-1.amazonaws.com/a.png',
      'https://my-bucket.s3-accelerate.amazonaws.com/a.png',
      'https://my-bucket.s3-accelerate.dualstack.amazonaws.com/a.png',
      'https://ik.imagekit.io/flora/a.png',
      'https://MEDIA.FLORA.AI/Upper.png',
      'https://media.flora.ai:443/default-port.png',
    ];
    const rejected = [
      'http://media.flora.ai/a.png',
      'https://evilmedia.flora.ai/a.png',
      'https://media.flora.ai.evil.com/a.png',
      'https://ik.imagekit.io.evil.com/a.png',
      'https://ik.imagekit.io@evil.com/a.png',
      'https://user:secret@media.flora.ai/a.png',
      'https://media.flora.ai:8443/a.png',
      'https://evilstorage.googleapis.com/a.png',
      'https://storage.googleapis.com.evil.com/a.png',
      'https://my-bucket.s3.amazonaws.com.evil.com/a.png',
      'https://evils3.amazonaws.com/a.png',
      'https://my-bucket.amazonaws.com/a.png',
      'https://my-bucket.s3-website-us-east-1.amazonaws.com/a.png',
      'https://s3-accelerate.amazonaws.com/a.png',
      'https://example.com/photo.jpg',
      'ftp://media.flora.ai/a.png',
      ' https://media.flora.ai/a.png',
      `${'http://127.0.0.1:1'}/media/j57x/studio_shot.png`,
    ];

    for (const url of accepted) {
      it(`accepts ${url}`, async () => {
        await createRun('studio-shot', studioShotBody(url));
      });
    }

    for (const url of rejected) {
      it(`rejects ${JSON.stringify(url)}`, async () => {
        const error = assertError(
          await call('POST', runsPath('studio-shot'), { body: studioShotBody(url) }),
          400,
          'input_validation_error',
        );
        assert.match(error.error.message, /product_image/);
      });
    }

    it('accepts its own output URLs so runs can be chained', async () => {
      const first = await waitUntilFinished(await createRun('studio-shot', studioShotBody()));
      const outputUrl = first.outputs?.[0]?.url;
      assert.ok(outputUrl?.startsWith(`${sandbox.url}/media/`));
      await createRun('studio-blur', createBody([{ id: 'input_image', type: 'imageUrl', value: outputUrl }]));
      const elsewhere = `${sandbox.url}/api/v1/techniques/studio-shot`;
      assertError(await call('POST', runsPath('studio-shot'), { body: studioShotBody(elsewhere) }), 400, 'input_validation_error');
    });
  });

  describe('outputs', () => {
    let imageRun: PollReply;
    let videoRun: PollReply;
    let paletteRun: PollReply;

    before(async () => {
      [imageRun, videoRun, paletteRun] = await Promise.all([
        createRun('studio-shot', studioShotBody()).then((run) => waitUntilFinished(run)),
        createRun(
          'product-animator',
          createBody([
            { id: 'product_image', type: 'imageUrl', value: PHOTO },
            { id: 'motion_prompt', type: 'text', value: 'slow turntable spin' },
          ]),
        ).then((run) => waitUntilFinished(run)),
        createRun('palette-pull', createBody([{ id: 'source_image', type: 'imageUrl', value: PHOTO }])).then((run) =>
          waitUntilFinished(run),
        ),
      ]);
    });

    function outputUrl(run: PollReply, index = 0): string {
      const url = run.outputs?.[index]?.url;
      assert.ok(url !== undefined, `run ${run.runId} has no output ${index}`);
      return url;
    }

    it('serves images as real 512x512 PNGs without auth, with caching headers', async () => {
      const result = await call('GET', outputUrl(imageRun), { authorization: null });
      assert.equal(result.status, 200);
      assert.equal(result.headers['content-type'], 'image/png');
      assert.equal(Number(result.headers['content-length']), result.body.length);
      assert.match(String(result.headers['cache-control']), /max-age=\d+/);
      assert.deepEqual([...result.body.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.equal(result.body.toString('latin1', 12, 16), 'IHDR');
      assert.equal(result.body.readUInt32BE(16), 512);
      assert.equal(result.body.readUInt32BE(20), 512);
      assert.equal(result.body.toString('latin1', result.body.length - 8, result.body.length - 4), 'IEND');
    });

    it('draws different images for different runs', async () => {
      const first = await call('GET', outputUrl(imageRun));
      const second = await call('GET', outputUrl(paletteRun));
      assert.notDeepEqual(first.body, second.body);
      const again = await call('GET', outputUrl(imageRun));
      assert.deepEqual(again.body, first.body);
    });

    it('serves videos as WebM, with HEAD and Range support', async () => {
      const url = outputUrl(videoRun);
      assert.match(url, /\.webm$/);
      const result = await call('GET', url, { authorization: null });
      assert.equal(result.status, 200);
      assert.equal(result.headers['content-type'], 'video/webm');
      assert.equal(result.body.readUInt32BE(0), 0x1a45dfa3);
      assert.ok(result.body.length > 1_000 && result.body.length <= 150 * 1024);
      assert.equal(Number(result.headers['content-length']), result.body.length);

      const head = await call('HEAD', url);
      assert.equal(head.status, 200);
      assert.equal(Number(head.headers['content-length']), result.body.length);
      assert.equal(head.body.length, 0);

      const part = await call('GET', url, { headers: { Range: 'bytes=0-99' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers['content-range'], `bytes 0-99/${result.body.length}`);
      assert.deepEqual(part.body, result.body.subarray(0, 100));
      const unsatisfiable = await call('GET', url, { headers: { Range: `bytes=${result.body.length}-` } });
      assert.equal(unsatisfiable.status, 416);
    });

    it('serves text outputs as text/plain', async () => {
      assert.equal(paletteRun.outputs?.[1]?.type, 'text');
      const result = await call('GET', outputUrl(paletteRun, 1));
      assert.equal(result.status, 200);
      assert.equal(result.headers['content-type'], 'text/plain; charset=utf-8');
      assert.match(result.text, /^(#[0-9a-f]{6}\n){5}$/);
    });

    it('answers unknown media with 404', async () => {
      assert.equal((await call('GET', `/media/${imageRun.runId}/nothing.png`)).status, 404);
      assert.equal((await call('GET', '/media/j57unknown/studio_shot.png')).status, 404);
    });
  });

  describe('faults', () => {
    it('status: replies with the status and a JSON error, or an HTML page', async () => {
      sandbox.faults.inject('details', { kind: 'status', status: 503 });
      assertError(await call('GET', '/api/v1/techniques/studio-shot'), 503, 'internal_error');
      assert.equal((await call('GET', '/api/v1/techniques/studio-shot')).status, 200, 'consumed after one use');
      sandbox.faults.inject('details', { kind: 'status', status: 502, html: true });
      const page = await call('GET', '/api/v1/techniques/studio-shot');
      assert.equal(page.status, 502);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.match(page.text, /<html/);
    });

    it('rateLimit: 429 rate_limited with Retry-After', async () => {
      sandbox.faults.inject('create', { kind: 'rateLimit', retryAfterSeconds: 7 });
      const runCount = sandbox.runs().length;
      const result = await call('POST', runsPath('studio-shot'), { body: studioShotBody() });
      assertError(result, 429, 'rate_limited');
      assert.equal(result.headers['retry-after'], '7');
      assert.equal(sandbox.runs().length, runCount);
    });

    it('dropBefore: cuts the connection and creates nothing', async () => {
      sandbox.faults.inject('create', { kind: 'dropBefore' });
      const runCount = sandbox.runs().length;
      await rejection(call('POST', runsPath('studio-shot'), { body: studioShotBody() }));
      assert.equal(sandbox.runs().length, runCount);
    });

    it('dropAfter: creates exactly one run, and a retry with the same idempotency_key gets it back', async () => {
      sandbox.faults.inject('create', { kind: 'dropAfter' });
      const runCount = sandbox.runs().length;
      const body = studioShotBody(PHOTO, { idempotency_key: 'drop-after-key' });
      await rejection(call('POST', runsPath('studio-shot'), { body }));
      const runs = sandbox.runs();
      assert.equal(runs.length, runCount + 1);
      const created = runs[runs.length - 1];
      assert.equal(created.idempotencyKey, 'drop-after-key');
      const retry = await call('POST', runsPath('studio-shot'), { body });
      assert.equal(retry.status, 200);
      assert.equal(json<CreateReply>(retry).runId, created.runId);
      assert.equal(sandbox.runs().length, runCount + 1);
    });

    it('delay: does the work and replies late', async () => {
      sandbox.faults.inject('details', { kind: 'delay', ms: 300 });
      const started = Date.now();
      const result = await call('GET', '/api/v1/techniques/studio-shot');
      assert.equal(result.status, 200);
      assert.ok(Date.now() - started >= 280, `replied after ${Date.now() - started} ms`);
    });

    it('hang: never replies, so the client has to give up', async () => {
      sandbox.faults.inject('poll', { kind: 'hang' });
      const run = await createRun('studio-shot', studioShotBody());
      const started = Date.now();
      const error = await rejection(call('GET', run.pollUrl, { signal: AbortSignal.timeout(300), agent: false }));
      assert.equal(error.name, 'AbortError');
      assert.ok(Date.now() - started >= 280);
      assert.equal((await poll(run)).runId, run.runId, 'the next poll is answered');
    });

    it('malformed: 200 application/json whose body is not JSON', async () => {
      sandbox.faults.inject('poll', { kind: 'malformed' });
      const run = await createRun('studio-shot', studioShotBody());
      const result = await call('GET', run.pollUrl);
      assert.equal(result.status, 200);
      assert.match(String(result.headers['content-type']), /^application\/json/);
      assert.throws(() => JSON.parse(result.text) as unknown, SyntaxError);
    });

    it('wrongShape: 200 with valid JSON of the wrong shape', async () => {
      sandbox.faults.inject('details', { kind: 'wrongShape' });
      const result = await call('GET', '/api/v1/techniques/studio-shot');
      assert.equal(result.status, 200);
      assert.deepEqual(json<unknown>(result), { status: 42 });
    });

    it('honours times, slug, the media route, any, and clear()', async () => {
      sandbox.faults.inject('details', { kind: 'status', status: 500 }, { slug: 'icon-pack', times: 2 });
      assert.equal((await call('GET', '/api/v1/techniques/studio-shot')).status, 200);
      assert.equal((await call('GET', '/api/v1/techniques/icon-pack')).status, 500);
      assert.equal((await call('GET', '/api/v1/techniques/icon-pack')).status, 500);
      assert.equal((await call('GET', '/api/v1/techniques/icon-pack')).status, 200);

      sandbox.faults.inject('any', { kind: 'status', status: 503 }, { times: Infinity });
      assert.equal((await call('GET', '/api/v1/techniques/studio-shot')).status, 503);
      assert.equal((await call('POST', runsPath('studio-shot'), { body: studioShotBody() })).status, 503);
      assert.equal((await call('GET', '/media/j57x/a.png')).status, 503);
      sandbox.faults.clear();
      assert.equal((await call('GET', '/api/v1/techniques/studio-shot')).status, 200);

      const finished = await waitUntilFinished(await createRun('studio-shot', studioShotBody()));
      sandbox.faults.inject('media', { kind: 'status', status: 500 }, { slug: 'studio-shot' });
      assert.equal((await call('GET', finished.outputs?.[0]?.url ?? '')).status, 500);
      assert.equal((await call('GET', finished.outputs?.[0]?.url ?? '')).status, 200);
    });

    it('pollOrigin: pollUrl points at the configured origin', async () => {
      sandbox.faults.pollOrigin = 'http://127.0.0.2:9';
      const run = await createRun('studio-shot', studioShotBody());
      assert.equal(run.pollUrl, `http://127.0.0.2:9/api/v1/techniques/studio-shot/runs/${run.runId}`);
      sandbox.faults.clear();
      assert.equal(sandbox.faults.pollOrigin, undefined);
    });
  });

  describe('connections and bookkeeping', () => {
    it('keeps connections alive and counts them', async () => {
      const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const before = sandbox.connections;
        for (let index = 0; index < 3; index += 1) {
          assert.equal((await call('GET', '/api/v1/techniques/studio-shot', { agent: keepAlive })).status, 200);
        }
        assert.equal(sandbox.connections, before + 1);
        await call('GET', '/api/v1/techniques/studio-shot', { agent: false });
        assert.equal(sandbox.connections, before + 2);
      } finally {
        keepAlive.destroy();
      }
    });

    it('records every request, media included, without losing headers or bodies', async () => {
      const start = sandbox.requests.length;
      const body = studioShotBody();
      await call('POST', runsPath('studio-shot'), { body, headers: { 'User-Agent': 'sandbox-test/1.0' } });
      await call('GET', '/media/j57x/a.png', { authorization: null });
      const recorded = sandbox.requests.slice(start);
      assert.equal(recorded.length, 2);
      assert.equal(recorded[0].method, 'POST');
      assert.equal(recorded[0].path, runsPath('studio-shot'));
      assert.equal(recorded[0].authorization, `Bearer ${sandbox.apiKey}`);
      assert.equal(recorded[0].userAgent, 'sandbox-test/1.0');
      assert.equal(recorded[0].body, body);
      assert.ok(recorded[0].remotePort > 0);
      assert.ok(Math.abs(recorded[0].at - Date.now()) < 5_000);
      assert.equal(recorded[1].path, '/media/j57x/a.png');
      assert.equal(recorded[1].authorization, undefined);
    });

    it('closes promptly even with a hung request', async () => {
      const other = await startSandbox({ runDurationMs: 100 });
      other.faults.inject('any', { kind: 'hang' });
      const hung = new Promise<unknown>((resolve) => {
        const request = http.get(`${other.url}/api/v1/techniques/studio-shot`, { agent: false });
        request.on('error', resolve);
        request.on('response', resolve);
      });
      await sleep(50);
      const started = Date.now();
      await other.close();
      assert.ok(Date.now() - started < 1_000, `close took ${Date.now() - started} ms`);
      assert.ok((await hung) instanceof Error, 'the hung request is cut');
    });
  });
});
