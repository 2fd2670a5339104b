/**
 * Probes the sandbox over real HTTP, with requests shaped like the API document's examples, so the
 * rest of the test suite can trust it to behave like the service.
 */
import * as assert from 'node:assert/strict';
import * as http from 'node:http';

import {
  CSP_BREAKERS,
  HOSTILE_CSP_SLUG,
  HOSTILE_DOWNLOADS_SLUG,
  HOSTILE_MODE_SLUGS,
  HOSTILE_REPLIES_SLUG,
  HOSTILE_REPLY_CASES,
  HOSTILE_URLS_SLUG,
  HUGE_CLAIMED_BYTES,
  HUGE_ERROR_MESSAGE_LENGTH,
  HUGE_SENT_BYTES,
  MANY_OUTPUTS_COUNT,
  SECRET_BODY,
  SNIPPET_BREAKERS,
  type HostileReplyCase,
} from '../sandbox/hostile';
import { SANDBOX_API_KEY, startSandbox, type Sandbox } from '../sandbox/server';
import { waitFor } from '../common/wait';
import { HOSTILE_FAILURE_SLUG, HOSTILE_SLUG, HOSTILE_STRINGS } from '../sandbox/techniques';

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

function isFinished(reply: PollReply): boolean {
  return reply.status === 'completed' || reply.status === 'failed';
}

async function waitUntilFinished(run: CreateReply, timeoutMs = RUN_DURATION_MS * 5): Promise<PollReply> {
  return waitFor(
    `run ${run.runId} to finish`,
    async () => {
      const reply = await poll(run);
      return isFinished(reply) ? reply : undefined;
    },
    timeoutMs,
    25,
  );
}

/** Charges are global, so tests that count them first let every earlier run finish. */
async function waitForAllRunsToFinish(): Promise<void> {
  await waitFor(
    'earlier runs to finish',
    () => !sandbox.runs().some((run) => run.status === 'pending' || run.status === 'running'),
    RUN_DURATION_MS * 5,
    25,
  );
}

/** Polls the run until it finishes, handing every reply to `see` on the way. */
function watchUntilFinished(run: CreateReply, see: (reply: PollReply) => void): Promise<PollReply> {
  return waitFor(
    `run ${run.runId} to finish`,
    async () => {
      const reply = await poll(run);
      see(reply);
      return isFinished(reply) ? reply : undefined;
    },
    RUN_DURATION_MS * 5,
    20,
  );
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
      const finished = await watchUntilFinished(run, (reply) => {
        seen.add(reply.status);
        assert.ok(reply.progress >= lastProgress, 'progress never goes back');
        lastProgress = reply.progress;
        if (reply.status === 'running') {
          assert.ok(reply.progress >= 0 && reply.progress < 100);
          assert.equal(typeof reply.startedAt, 'number');
          assert.equal(reply.outputs, undefined);
        }
      });
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
      const finished = await watchUntilFinished(run, (reply) => {
        if (reply.status === 'running') progress.push(reply.progress);
      });
      assert.equal(finished.status, 'completed');
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
      await waitFor('the hung request to reach the sandbox', () => other.requests.length > 0);
      const started = Date.now();
      await other.close();
      assert.ok(Date.now() - started < 1_000, `close took ${Date.now() - started} ms`);
      assert.ok((await hung) instanceof Error, 'the hung request is cut');
    });
  });

  describe('hostile techniques (served without hostile mode)', () => {
    const promptBody = (value: string): string => createBody([{ id: 'prompt', type: 'text', value }]);

    it('carries markup, command links and codicons in every server string', async () => {
      const details = json<DetailsReply>(await call('GET', `/api/v1/techniques/${HOSTILE_SLUG}`));
      assert.equal(details.name, HOSTILE_STRINGS.name);
      assert.equal(details.description, HOSTILE_STRINGS.description);
      assert.equal(details.inputs[0].name, HOSTILE_STRINGS.inputName);
      assert.equal(details.outputs[0].name, HOSTILE_STRINGS.outputName);
      assert.ok(details.name.includes(HOSTILE_STRINGS.terminalLink) && details.name.includes('$(alert)'));
      assert.match(details.name, /<script>/);
      assert.match(details.description, /\[link\]\(command:flora\.clearHistory\)/);
      assert.match(details.inputs[0].name, /\[x\]\(command:workbench\.action\.quit\)/);
    });

    it('fails every run of sandbox-hostile-failure with a hostile error code and message', async () => {
      const run = await createRun(HOSTILE_FAILURE_SLUG, promptBody('anything'));
      const reply = await waitUntilFinished(run, 10_000);
      assert.equal(reply.status, 'failed');
      assert.equal(reply.errorCode, 'bad_[x](command:workbench.action.quit)');
      assert.equal(reply.errorMessage, HOSTILE_STRINGS.errorMessage);
      assert.match(reply.errorMessage ?? '', /\[Click here\]\(command:workbench\.action\.terminal\.sendSequence\?/);
      assert.match(reply.errorMessage ?? '', /\$\(error\)/);
    });

    it('fails a sandbox-hostile run asked to fail with the hostile error', async () => {
      const reply = await waitUntilFinished(await createRun(HOSTILE_SLUG, promptBody('please fail')), 10_000);
      assert.equal(reply.errorCode, HOSTILE_STRINGS.errorCode);
      assert.equal(reply.errorMessage, HOSTILE_STRINGS.errorMessage);
    });

    it('answers 400 and 402 with a hostile error message', async () => {
      const rejected = assertError(
        await call('POST', runsPath(HOSTILE_SLUG), { body: promptBody('reject this') }),
        400,
        'input_validation_error',
      );
      assert.equal(rejected.error.message, HOSTILE_STRINGS.errorBodyMessage);
      assert.match(rejected.error.message, /\[Fix it\]\(command:/);
      const credits = sandbox.credits;
      sandbox.credits = 0;
      try {
        const poor = assertError(
          await call('POST', runsPath(HOSTILE_FAILURE_SLUG), { body: promptBody('x') }),
          402,
          'insufficient_credits',
        );
        assert.equal(poor.error.message, HOSTILE_STRINGS.errorBodyMessage);
      } finally {
        sandbox.credits = credits;
      }
    });

    it('serves neither the hostile-mode techniques nor /hostile/ files without hostile mode', async () => {
      assert.equal(sandbox.hostile, undefined);
      for (const slug of HOSTILE_MODE_SLUGS) {
        assertError(await call('GET', `/api/v1/techniques/${slug}`), 404, 'not_found');
      }
      assert.equal((await call('GET', '/hostile/download/redirect-loopback.png', { authorization: null })).status, 404);
    });
  });

  describe('hostile mode', () => {
    /** Runs finish the moment they are created, so every reply below is a finished one. */
    let instant: Sandbox;
    /** Runs never finish during the tests, so every reply below is an unfinished one. */
    let slow: Sandbox;
    const streamLimit = 300 * 1024;

    before(async () => {
      instant = await startSandbox({ hostile: true, runDurationMs: 0, hostileStreamLimitBytes: streamLimit });
      slow = await startSandbox({ hostile: true, runDurationMs: 600_000 });
    });

    after(async () => {
      await instant.close();
      await slow.close();
    });

    function at(server: Sandbox, target: string): string {
      return new URL(target, server.url).href;
    }

    async function hostileRun(server: Sandbox, slug: string, value: string): Promise<{ create: HttpResult; poll: HttpResult }> {
      const input = slug === HOSTILE_REPLIES_SLUG ? 'case' : 'prompt';
      const create = await call('POST', at(server, runsPath(slug)), {
        body: createBody([{ id: input, type: 'text', value }]),
        agent: false,
      });
      const runId = server.runs().at(-1)?.runId ?? '';
      const poll = await call('GET', at(server, `${runsPath(slug)}/${runId}`), { agent: false });
      return { create, poll };
    }

    async function outputsOf(slug: string): Promise<Map<string, string>> {
      const { poll } = await hostileRun(instant, slug, 'go');
      const reply = json<PollReply>(poll);
      assert.equal(reply.status, 'completed', poll.text);
      return new Map((reply.outputs ?? []).map((output) => [output.outputId, output.url]));
    }

    /** Reads a reply's headers and counts its body, which may be cut off mid-way. */
    function fetchCounting(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: number; cut: boolean }> {
      return new Promise((resolve, reject) => {
        http
          .get(url, { agent: false }, (response) => {
            let bytes = 0;
            let cut = false;
            response.on('data', (chunk: Buffer) => (bytes += chunk.length));
            response.on('aborted', () => (cut = true));
            response.on('error', () => (cut = true));
            response.on('close', () =>
              resolve({ status: response.statusCode ?? 0, headers: response.headers, bytes, cut: cut || !response.complete }),
            );
          })
          .on('error', reject);
      });
    }

    it('serves every hostile-mode technique and reports its origins', async () => {
      const hostile = instant.hostile;
      assert.ok(hostile !== undefined);
      assert.equal(hostile.origins.sandbox, instant.url);
      assert.match(hostile.origins.secret, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(hostile.origins.secret, instant.url);
      assert.equal(hostile.secretUrl, `${hostile.origins.secret}/admin/secrets`);
      for (const slug of [HOSTILE_SLUG, HOSTILE_FAILURE_SLUG, ...HOSTILE_MODE_SLUGS]) {
        const details = json<DetailsReply>(await call('GET', at(instant, `/api/v1/techniques/${slug}`), { agent: false }));
        assert.ok(details.outputs.length > 0, slug);
      }
    });

    it('serves snippet-breaking output URLs raw, and loads the sandbox-origin ones as PNG', async () => {
      const outputs = await outputsOf(HOSTILE_URLS_SLUG);
      for (const [name, piece] of Object.entries(SNIPPET_BREAKERS)) {
        assert.equal(outputs.get(`https_${name}`), `https://hostile.invalid/${piece}`, name);
        const local = outputs.get(`local_${name}`);
        assert.equal(local, `${instant.url}/hostile/file/${piece}`, name);
        // What a browser or fetch() requests after WHATWG parsing.
        const loaded = await fetchCounting(new URL(local).href);
        assert.equal(loaded.status, 200, name);
        assert.equal(loaded.headers['content-type'], 'image/png', name);
      }
      const raw = [...outputs.values()].join(' ');
      for (const piece of ['\n', '\t', '\r', '\f', ')', '"', "'", '<', '{{', '@(', '#{', '](command:', '\u2028']) {
        assert.ok(raw.includes(piece), JSON.stringify(piece));
      }
    });

    it('redirects downloads to a second loopback server that answers SECRET', async () => {
      const outputs = await outputsOf(HOSTILE_DOWNLOADS_SLUG);
      const hostile = instant.hostile;
      assert.ok(hostile !== undefined);
      assert.deepEqual(new Map(Object.entries(hostile.outputUrls[HOSTILE_DOWNLOADS_SLUG])), outputs, 'outputUrls lists what runs serve');
      const loopback = await fetchCounting(outputs.get('redirect_loopback') ?? '');
      assert.equal(loopback.status, 302);
      assert.equal(loopback.headers.location, hostile.secretUrl);
      const localhost = await fetchCounting(outputs.get('redirect_localhost') ?? '');
      assert.equal(localhost.status, 302);
      assert.equal(localhost.headers.location, `http://localhost:${hostile.origins.secretPort}/admin/secrets`);
      const chain = await fetchCounting(outputs.get('redirect_chain') ?? '');
      assert.equal(chain.headers.location, outputs.get('redirect_loopback'));
      const same = await fetchCounting(outputs.get('redirect_same_origin') ?? '');
      const sameTarget = same.headers.location ?? '';
      assert.ok(sameTarget.startsWith(`${instant.url}/hostile/file/`), sameTarget);
      assert.equal((await fetchCounting(sameTarget)).headers['content-type'], 'image/png');

      const before = hostile.secretRequests.length;
      for (const target of [hostile.secretUrl, localhost.headers.location ?? '']) {
        const secret = await call('GET', target, { agent: false, authorization: null });
        assert.equal(secret.status, 200);
        assert.equal(secret.text, SECRET_BODY);
        // Passes a careless content-type check, so only the redirect rule keeps it out.
        assert.equal(secret.headers['content-type'], 'image/png');
      }
      assert.equal(hostile.secretRequests.length, before + 2);
      assert.equal(hostile.secretRequests.at(-1)?.path, '/admin/secrets');
    });

    it('claims 2 GiB and cuts off, streams to its bound, and mislabels content types', async () => {
      const outputs = await outputsOf(HOSTILE_DOWNLOADS_SLUG);
      const huge = await fetchCounting(outputs.get('huge') ?? '');
      assert.equal(Number(huge.headers['content-length']), HUGE_CLAIMED_BYTES);
      assert.equal(huge.bytes, HUGE_SENT_BYTES);
      assert.ok(huge.cut);
      const head = await call('HEAD', outputs.get('huge') ?? '', { agent: false, authorization: null });
      assert.equal(Number(head.headers['content-length']), HUGE_CLAIMED_BYTES, 'a HEAD tells the size without a body');
      assert.equal(head.body.length, 0);
      assert.equal((await fetchCounting(`${instant.url}/hostile/download/unknown.png`)).status, 404);
      const endless = await fetchCounting(outputs.get('endless') ?? '');
      assert.equal(endless.headers['content-length'], undefined);
      assert.equal(endless.bytes, streamLimit);
      const kinds: [string, RegExp, RegExp][] = [
        ['html_named_png', /\.html$/, /^image\/png$/],
        ['png_serving_html', /\.png$/, /^text\/html/],
        ['svg_script', /\.svg$/, /^image\/svg\+xml$/],
        ['shell_script', /\.sh$/, /^application\/x-sh$/],
      ];
      for (const [id, name, type] of kinds) {
        const url = outputs.get(id) ?? '';
        assert.match(url, name, id);
        const reply = await call('GET', url, { agent: false, authorization: null });
        assert.equal(reply.status, 200, id);
        assert.match(String(reply.headers['content-type']), type, id);
      }
      assert.match((await call('GET', outputs.get('png_serving_html') ?? '', { agent: false })).text, /<script>/);
      assert.ok(outputs.has('../../../../flora-escape') && outputs.has('..\\..\\flora-escape'));
      assert.equal((await fetchCounting(outputs.get('../../../../flora-escape') ?? '')).headers['content-type'], 'image/png');
    });

    it('serves origins that would inject into a CSP', async () => {
      const outputs = await outputsOf(HOSTILE_CSP_SLUG);
      for (const [id, url] of Object.entries(CSP_BREAKERS)) {
        assert.equal(outputs.get(id), url, id);
      }
      assert.equal(new URL(CSP_BREAKERS.semicolon_host).origin, "https://a.example;script-src'*'");
      assert.equal(new URL(CSP_BREAKERS.percent_encoded_semicolon).hostname, 'a;b.example');
      assert.equal(new URL(CSP_BREAKERS.fullwidth_idn).hostname, 'a.example;script-src*');
      assert.ok(new URL(CSP_BREAKERS.quote_host).hostname.includes('"'));
      assert.equal(new URL(CSP_BREAKERS.wildcard_host).hostname, '*.example');
      assert.throws(() => new URL(CSP_BREAKERS.not_a_url));
    });

    describe('off-spec replies', () => {
      const finished = async (replyCase: HostileReplyCase): Promise<{ create: HttpResult; poll: HttpResult }> =>
        hostileRun(instant, HOSTILE_REPLIES_SLUG, replyCase);
      const unfinished = async (replyCase: HostileReplyCase): Promise<{ create: HttpResult; poll: HttpResult }> =>
        hostileRun(slow, HOSTILE_REPLIES_SLUG, replyCase);

      it('iso-completed-at: a completed reply with ISO-8601 startedAt and completedAt', async () => {
        const reply = json<Record<string, unknown>>((await finished('iso-completed-at')).poll);
        assert.equal(reply.status, 'completed');
        assert.match(String(reply.completedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.equal(typeof reply.startedAt, 'string');
        assert.equal((reply.outputs as unknown[]).length, 3);
      });

      it('unlisted-status: "queued" until the run is done, then "completed"', async () => {
        assert.equal(json<PollReply>((await unfinished('unlisted-status')).poll).status, 'queued');
        assert.equal(json<PollReply>((await finished('unlisted-status')).poll).status, 'completed');
      });

      it('empty-output-url: one empty URL between two good ones', async () => {
        const outputs = json<PollReply>((await finished('empty-output-url')).poll).outputs ?? [];
        assert.deepEqual(
          outputs.map((output) => output.url === ''),
          [false, true, false],
        );
        assert.ok(outputs[0].url.startsWith(`${instant.url}/media/`));
      });

      it('negative-cost: chargedCost -5', async () => {
        assert.equal(json<PollReply>((await finished('negative-cost')).poll).chargedCost, -5);
      });

      it('unknown-create-status: "accepted" with a good runId and pollUrl', async () => {
        const { create, poll } = await unfinished('unknown-create-status');
        assert.equal(create.status, 201);
        const reply = json<CreateReply>(create);
        assert.equal(reply.status, 'accepted');
        assert.match(reply.runId, /^j57[a-z0-9]{29}$/);
        assert.equal(reply.pollUrl, at(slow, `${runsPath(HOSTILE_REPLIES_SLUG)}/${reply.runId}`));
        assert.equal(json<PollReply>(poll).runId, reply.runId);
      });

      it('extra-fields-and-nulls: extra fields, own __proto__ keys and nulls', async () => {
        const { create, poll } = await finished('extra-fields-and-nulls');
        assert.equal(json<Record<string, unknown>>(create).queuePosition, 3);
        const reply = json<Record<string, unknown>>(poll);
        assert.ok(Object.prototype.hasOwnProperty.call(reply, '__proto__'));
        assert.equal(reply.errorCode, null);
        assert.equal(reply.errorMessage, null);
        assert.deepEqual(reply.debug, { worker: 'gpu-7', trace: [1, 2, 3], nested: { deeper: { deepest: null } } });
        const outputs = reply.outputs as Record<string, unknown>[];
        assert.equal(outputs.length, 3);
        assert.equal(outputs[0].width, 512);
        assert.equal(outputs[0].thumbnail, null);
        assert.equal(json<Record<string, unknown>>((await unfinished('extra-fields-and-nulls')).poll).outputs, null);
      });

      it('many-outputs: 10 000 outputs in under 1 MiB', async () => {
        const { poll } = await finished('many-outputs');
        const outputs = json<PollReply>(poll).outputs ?? [];
        assert.equal(outputs.length, MANY_OUTPUTS_COUNT);
        assert.equal(new Set(outputs.map((output) => output.outputId)).size, MANY_OUTPUTS_COUNT);
        assert.ok(poll.body.length < 1024 * 1024, `${poll.body.length} bytes`);
        assert.equal((await fetchCounting(outputs[MANY_OUTPUTS_COUNT - 1].url)).headers['content-type'], 'image/png');
      });

      it('huge-error-message: a failed reply with a 1 000 000-character errorMessage', async () => {
        const reply = json<PollReply>((await finished('huge-error-message')).poll);
        assert.equal(reply.status, 'failed');
        assert.equal(reply.errorMessage?.length, HUGE_ERROR_MESSAGE_LENGTH);
        assert.ok(reply.errorMessage?.startsWith(HOSTILE_STRINGS.errorMessage));
      });

      it('wrong-types: strings for numbers and junk among the outputs', async () => {
        const reply = json<Record<string, unknown>>((await finished('wrong-types')).poll);
        assert.equal(typeof reply.progress, 'string');
        assert.equal(typeof reply.createdAt, 'string');
        assert.equal(typeof reply.chargedCost, 'string');
        const outputs = reply.outputs as unknown[];
        assert.ok(outputs.includes(42) && outputs.includes(null));
        const good = outputs.filter(
          (output) =>
            typeof output === 'object' && output !== null && String((output as { url?: unknown }).url).startsWith(`${instant.url}/media/`),
        );
        assert.equal(good.length, 3, 'the well-formed outputs are still there');
      });

      it('out-of-range: progress 250, then a completedAt no Date can hold', async () => {
        assert.equal(json<PollReply>((await unfinished('out-of-range')).poll).progress, 250);
        const completedAt = json<PollReply>((await finished('out-of-range')).poll).completedAt;
        assert.ok(Number.isNaN(new Date(completedAt ?? 0).getTime()));
      });

      it('unreadable-forever and server-error-forever: charged runs whose polls never read', async () => {
        const unreadable = await finished('unreadable-forever');
        assert.equal(unreadable.poll.status, 200);
        assert.deepEqual(json<unknown>(unreadable.poll), { status: 42 });
        assert.equal(instant.runs().at(-1)?.status, 'completed');
        assert.equal(instant.runs().at(-1)?.chargedCost, 1);
        const failing = await finished('server-error-forever');
        assertError(failing.poll, 500, 'internal_error');
        assert.equal(instant.runs().at(-1)?.chargedCost, 1);
      });

      it('create-unreadable: the run exists and is charged, but the reply has no runId; a re-send gets the same', async () => {
        const body = createBody([{ id: 'case', type: 'text', value: 'create-unreadable' }], {
          idempotency_key: 'hostile-create-unreadable',
        });
        const first = await call('POST', at(instant, runsPath(HOSTILE_REPLIES_SLUG)), { body, agent: false });
        const runId = instant.runs().at(-1)?.runId;
        assert.equal(first.status, 201);
        assert.deepEqual(json<unknown>(first), { id: runId, state: 'ok' });
        const again = await call('POST', at(instant, runsPath(HOSTILE_REPLIES_SLUG)), { body, agent: false });
        assert.deepEqual(json<unknown>(again), { id: runId, state: 'ok' });
        assert.equal(instant.runs().at(-1)?.runId, runId, 'no second run');
      });

      it('takes the cases in turn when the input names none', async () => {
        const fresh = await startSandbox({ hostile: true, runDurationMs: 0 });
        try {
          const replies: Record<string, unknown>[] = [];
          for (let index = 0; index < HOSTILE_REPLY_CASES.length + 1; index += 1) {
            replies.push(json<Record<string, unknown>>((await hostileRun(fresh, HOSTILE_REPLIES_SLUG, 'anything')).poll));
          }
          assert.equal(HOSTILE_REPLY_CASES[0], 'iso-completed-at');
          assert.equal(typeof replies[0].completedAt, 'string');
          assert.equal(HOSTILE_REPLY_CASES[3], 'negative-cost');
          assert.equal(replies[3].chargedCost, -5);
          assert.equal(typeof replies[HOSTILE_REPLY_CASES.length].completedAt, 'string', 'and round again');
        } finally {
          await fresh.close();
        }
      });
    });

    it('closes the second server with the sandbox', async () => {
      const other = await startSandbox({ hostile: true });
      const secretUrl = other.hostile?.secretUrl ?? '';
      assert.equal((await call('GET', secretUrl, { agent: false, authorization: null })).text, SECRET_BODY);
      await other.close();
      await assert.rejects(call('GET', secretUrl, { agent: false, authorization: null }));
    });
  });
});
