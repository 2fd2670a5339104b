/**
 * The technique catalogue the sandbox serves: every slug, name and description of the API document's
 * "Available techniques" table, with input and output definitions designed for the sandbox.
 *
 * The real service does not publish the definitions, so a few are designed to cover every shape a
 * client must handle: one and several inputs of each type, image, video and text outputs, and several
 * outputs from one run. The rest are plausible image-to-image definitions.
 *
 * Two sandbox-only techniques at the end (sandbox-hostile, sandbox-hostile-failure) carry hostile strings;
 * the hostile-mode techniques, whose URLs depend on the sandbox's ports, are in hostile.ts.
 */
import { createHash } from 'node:crypto';

export type SandboxInputType = 'imageUrl' | 'videoUrl' | 'text';
/** `text` outputs are a sandbox design: served as a .txt file at the output's url. */
export type SandboxOutputType = 'imageUrl' | 'videoUrl' | 'text';

export interface SandboxTechniqueInput {
  id: string;
  name: string;
  type: SandboxInputType;
}

export interface SandboxTechniqueOutput {
  id: string;
  name: string;
  type: SandboxOutputType;
  /** Replaces the served file's URL: the hostile techniques use it for javascript:, data:, file: and hostile URLs. */
  url?: string;
}

export interface SandboxTechnique {
  techniqueId: string;
  slug: string;
  name: string;
  description: string;
  runCost: number;
  /** How long a run takes when the sandbox is not told otherwise; image work is quicker than video. */
  durationMs: number;
  inputs: SandboxTechniqueInput[];
  outputs: SandboxTechniqueOutput[];
  /** Sandbox-only hostile techniques: how their runs fail and their 4xx replies read. */
  hostile?: SandboxHostileBehaviour;
}

export interface SandboxHostileBehaviour {
  /** The failure of a run whose prompt asks to fail, or of every run when failsAlways. */
  failure: { errorCode: string; errorMessage: string };
  failsAlways: boolean;
}

type Definition = Omit<SandboxTechnique, 'techniqueId'>;

function image(id: string, name: string): SandboxTechniqueInput {
  return { id, name, type: 'imageUrl' };
}

function video(id: string, name: string): SandboxTechniqueInput {
  return { id, name, type: 'videoUrl' };
}

function text(id: string, name: string): SandboxTechniqueInput {
  return { id, name, type: 'text' };
}

function imageOutput(id: string, name: string): SandboxTechniqueOutput {
  return { id, name, type: 'imageUrl' };
}

function videoOutput(id: string, name: string): SandboxTechniqueOutput {
  return { id, name, type: 'videoUrl' };
}

function textOutput(id: string, name: string): SandboxTechniqueOutput {
  return { id, name, type: 'text' };
}

function numberedImages(prefix: string, label: string, count: number): SandboxTechniqueOutput[] {
  return Array.from({ length: count }, (_, index) => imageOutput(`${prefix}_${index + 1}`, `${label} ${index + 1}`));
}

const definitions: Definition[] = [
  {
    slug: 'art-directors-critique',
    name: "Art Director's Critique",
    description: 'Analyze, critique, and redesign any creative asset.',
    runCost: 10,
    durationMs: 9000,
    inputs: [image('creative_asset', 'Creative Asset')],
    outputs: [textOutput('critique', 'Critique'), imageOutput('redesign', 'Redesign')],
  },
  {
    slug: 'auto-translate',
    name: 'Auto Translate',
    description: 'Translate text in images instantly',
    runCost: 4,
    durationMs: 6000,
    inputs: [image('input_image', 'Input Image'), text('target_language', 'Target Language')],
    outputs: [imageOutput('translated_image', 'Translated Image')],
  },
  {
    slug: 'book-drop',
    name: 'Book Drop',
    description: 'Mocks up front and back book covers',
    runCost: 6,
    durationMs: 7000,
    inputs: [image('front_cover', 'Front Cover'), image('back_cover', 'Back Cover')],
    outputs: [imageOutput('book_mockup', 'Book Mockup')],
  },
  {
    slug: 'cctv-cam',
    name: 'CCTV Cam',
    description: 'Any face, CCTV style',
    runCost: 4,
    durationMs: 5000,
    inputs: [image('face_image', 'Face Image')],
    outputs: [imageOutput('cctv_still', 'CCTV Still')],
  },
  {
    slug: 'character-lock',
    name: 'Character Lock',
    description: 'One character, 6 different angles',
    runCost: 15,
    durationMs: 11000,
    inputs: [image('character_image', 'Character Image')],
    outputs: numberedImages('angle', 'Angle', 6),
  },
  {
    slug: 'cinematic-movie-generator',
    name: 'Cinematic Movie Stills',
    description: 'Generate film-quality scene stills',
    runCost: 8,
    durationMs: 8000,
    inputs: [text('scene_prompt', 'Scene Prompt')],
    outputs: [imageOutput('movie_still', 'Movie Still')],
  },
  {
    slug: 'color-mapping',
    name: 'Segment Mapper',
    description: 'Color-codes every element in your image',
    runCost: 3,
    durationMs: 5000,
    inputs: [image('input_image', 'Input Image')],
    outputs: [imageOutput('segment_map', 'Segment Map')],
  },
  {
    slug: 'color-transfer',
    name: 'Color Transfer',
    description: 'Apply color grading from any reference',
    runCost: 4,
    durationMs: 6000,
    inputs: [image('source_image', 'Source Image'), image('reference_image', 'Reference Image')],
    outputs: [imageOutput('graded_image', 'Graded Image')],
  },
  {
    slug: 'earth-zoom-out',
    name: 'Earth Zoom Out',
    description: 'Zoom out to space from any scene',
    runCost: 18,
    durationMs: 14000,
    inputs: [image('scene_image', 'Scene Image')],
    outputs: [videoOutput('zoom_video', 'Zoom Video')],
  },
  {
    slug: 'facade-swap',
    name: 'Facade Swap',
    description: 'Reskin buildings with new materials',
    runCost: 7,
    durationMs: 7000,
    inputs: [image('building_image', 'Building Image'), text('material_prompt', 'Material Prompt')],
    outputs: [imageOutput('reskinned_building', 'Reskinned Building')],
  },
  {
    slug: 'fit-checks',
    name: 'Fit Check',
    description: 'Extract outfits & swap onto new looks',
    runCost: 8,
    durationMs: 8000,
    inputs: [image('outfit_image', 'Outfit Image'), image('model_image', 'Model Image')],
    outputs: [imageOutput('fit_check', 'Fit Check')],
  },
  {
    slug: 'glam-shots',
    name: 'Glam Shots',
    description: 'Create polished makeup ads instantly',
    runCost: 6,
    durationMs: 6000,
    inputs: [image('portrait', 'Portrait')],
    outputs: [imageOutput('glam_shot', 'Glam Shot')],
  },
  {
    slug: 'icon-pack',
    name: 'Icon Pack',
    description: 'Generate matched icon sets from a prompt',
    runCost: 8,
    durationMs: 8000,
    inputs: [text('prompt', 'Icon Prompt')],
    outputs: numberedImages('icon', 'Icon', 4),
  },
  {
    slug: 'live-like-an-amsterdammer',
    name: 'Live like an Amsterdammer',
    description: 'Places you into everyday Amsterdam scenes',
    runCost: 12,
    durationMs: 10000,
    inputs: [image('portrait', 'Portrait')],
    outputs: numberedImages('amsterdam_scene', 'Amsterdam Scene', 3),
  },
  {
    slug: 'location-scouter',
    name: 'Location Scout',
    description: 'Scouts five views from a single location',
    runCost: 14,
    durationMs: 10000,
    inputs: [image('location_image', 'Location Image')],
    outputs: numberedImages('view', 'View', 5),
  },
  {
    slug: 'logo-stylist',
    name: 'Logo Stylist',
    description: 'Stylize any logo with a new visual twist',
    runCost: 5,
    durationMs: 6000,
    inputs: [image('logo', 'Logo'), text('style_prompt', 'Style Prompt')],
    outputs: [imageOutput('styled_logo', 'Styled Logo')],
  },
  {
    slug: 'memoji-me',
    name: 'Memoji Me',
    description: 'Turn any face into a custom memoji',
    runCost: 3,
    durationMs: 5000,
    inputs: [image('face_image', 'Face Image')],
    outputs: [imageOutput('memoji', 'Memoji')],
  },
  {
    slug: 'moodboard-maker',
    name: 'Mood Board Maker',
    description: 'Eclectic mood board from a photo',
    runCost: 6,
    durationMs: 7000,
    inputs: [image('input_image', 'Input Image')],
    outputs: [imageOutput('mood_board', 'Mood Board')],
  },
  {
    slug: 'mugshot',
    name: 'Mugshot',
    description: 'Turn any portrait into a mugshot',
    runCost: 3,
    durationMs: 5000,
    inputs: [image('portrait', 'Portrait')],
    outputs: [imageOutput('mugshot', 'Mugshot')],
  },
  {
    slug: 'palette-pull',
    name: 'Palette Pull',
    description: 'Extract color palettes from any image',
    runCost: 2,
    durationMs: 4000,
    inputs: [image('source_image', 'Source Image')],
    outputs: [imageOutput('palette_image', 'Palette Image'), textOutput('palette_hex', 'Palette Hex Codes')],
  },
  {
    slug: 'product-animator',
    name: 'Product Animator',
    description: 'Animate your product',
    runCost: 20,
    durationMs: 14000,
    inputs: [image('product_image', 'Product Image'), text('motion_prompt', 'Motion Prompt')],
    outputs: [videoOutput('product_video', 'Product Video')],
  },
  {
    slug: 'product-lookbook-grid',
    name: 'Product Lookbook Grid',
    description: 'Turn products into styled grid layouts',
    runCost: 7,
    durationMs: 7000,
    inputs: [image('product_image', 'Product Image')],
    outputs: [imageOutput('lookbook_grid', 'Lookbook Grid')],
  },
  {
    slug: 'product-motion',
    name: 'Product Motion',
    description: 'Animate product shots in one click',
    runCost: 16,
    durationMs: 13000,
    inputs: [image('product_image', 'Product Image')],
    outputs: [videoOutput('motion_video', 'Motion Video')],
  },
  {
    slug: 'quick-reframe',
    name: 'Layout Resizer',
    description: 'Resize layouts for any aspect ratio',
    runCost: 3,
    durationMs: 5000,
    inputs: [image('layout_image', 'Layout Image'), text('aspect_ratio', 'Aspect Ratio')],
    outputs: [imageOutput('reframed_layout', 'Reframed Layout')],
  },
  {
    slug: 'relight-technique',
    name: 'Relighting',
    description: 'Relights your photo',
    runCost: 6,
    durationMs: 6000,
    inputs: [image('photo', 'Photo'), text('lighting_prompt', 'Lighting Prompt')],
    outputs: [imageOutput('relit_photo', 'Relit Photo')],
  },
  {
    slug: 'room-render',
    name: 'Room Render',
    description: 'Turn floor plans into realistic rooms',
    runCost: 9,
    durationMs: 9000,
    inputs: [image('floor_plan', 'Floor Plan')],
    outputs: [imageOutput('room_render', 'Room Render')],
  },
  {
    slug: 'seamless-transition',
    name: 'Seamless Transition',
    description: 'Animate between any two frames',
    runCost: 25,
    durationMs: 15000,
    inputs: [image('start_frame', 'Start Frame'), image('end_frame', 'End Frame'), text('transition_prompt', 'Transition Prompt')],
    outputs: [videoOutput('transition_video', 'Transition Video')],
  },
  {
    slug: 'sigil',
    name: 'Sigil',
    description: 'Turns any image into an animated glyph',
    runCost: 14,
    durationMs: 12000,
    inputs: [image('input_image', 'Input Image')],
    outputs: [videoOutput('glyph_animation', 'Glyph Animation')],
  },
  {
    slug: 'sketch-to-garment',
    name: 'Garment Sketch',
    description: 'One sketch, one final garment.',
    runCost: 6,
    durationMs: 7000,
    inputs: [image('garment_sketch', 'Garment Sketch')],
    outputs: [imageOutput('garment', 'Garment')],
  },
  {
    slug: 'studio-blur',
    name: 'Studio Blur',
    description: 'Add pro depth-of-field blur to photos',
    runCost: 2,
    durationMs: 4000,
    inputs: [image('input_image', 'Input Image')],
    outputs: [imageOutput('blurred_photo', 'Blurred Photo')],
  },
  {
    slug: 'studio-shot',
    name: 'Studio Shot',
    description: 'Turns any product into a studio-lit shoot',
    runCost: 5,
    durationMs: 6000,
    inputs: [image('product_image', 'Product Image')],
    outputs: [imageOutput('studio_shot', 'Studio Shot')],
  },
  {
    slug: 'tarot-pull',
    name: 'Tarot Pull',
    description: 'Custom illustrated tarot card readings',
    runCost: 5,
    durationMs: 7000,
    inputs: [text('question', 'Question')],
    outputs: [imageOutput('tarot_card', 'Tarot Card'), textOutput('reading', 'Reading')],
  },
  {
    slug: 'texture-matchers',
    name: 'Texture Match',
    description: 'Replicate textures & colors across assets',
    runCost: 5,
    durationMs: 6000,
    inputs: [image('source_asset', 'Source Asset'), image('texture_reference', 'Texture Reference')],
    outputs: [imageOutput('matched_asset', 'Matched Asset')],
  },
  {
    slug: 'turn-any-product-into-4-ad-visuals',
    name: 'Turn any product into 4 ad visuals',
    description: 'Make a full ad campaign from 1 product',
    runCost: 12,
    durationMs: 10000,
    inputs: [image('product_image', 'Product Image')],
    outputs: numberedImages('ad_visual', 'Ad Visual', 4),
  },
  {
    slug: 'ugc-creation',
    name: 'UGC Creator',
    description: 'Casual, phone-shot clips of your product',
    runCost: 22,
    durationMs: 15000,
    inputs: [video('product_video', 'Product Video'), text('script', 'Script')],
    outputs: [videoOutput('ugc_video', 'UGC Video')],
  },
  {
    slug: 'video-scene-builder',
    name: 'Video Scene Builder',
    description: 'Compose video scenes from still assets',
    runCost: 24,
    durationMs: 15000,
    inputs: [image('background_image', 'Background Image'), image('subject_image', 'Subject Image'), text('scene_prompt', 'Scene Prompt')],
    outputs: [videoOutput('scene_video', 'Scene Video')],
  },
  {
    slug: 'wireframe',
    name: 'Photo Wireframe',
    description: 'Turn any photo into a clean wireframe',
    runCost: 2,
    durationMs: 4000,
    inputs: [image('input_image', 'Input Image')],
    outputs: [imageOutput('wireframe', 'Wireframe')],
  },
  {
    slug: 'wonder-fy',
    name: 'Wonder(fy)',
    description: "Apply Wonder's cinematic style to images",
    runCost: 4,
    durationMs: 6000,
    inputs: [image('input_image', 'Input Image')],
    outputs: [imageOutput('wonderfied_image', 'Wonderfied Image')],
  },
];

/**
 * The exact hostile strings the sandbox-only techniques carry, exported so tests can look for them.
 * Each mixes HTML markup (for webviews and Markdown), VS Code command links `[label](command:…)` (which
 * notifications render as clickable links that run the command with the JSON arguments) and codicon
 * syntax `$(…)` (which labels, the status bar and quick picks render as icons).
 */
export const HOSTILE_STRINGS = {
  /** Types `echo pwned` and Enter into the user's terminal when clicked in a notification. */
  terminalLink: '[Open Preview](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22echo%20pwned%5Cn%22%7D)',
  name:
    `<img src=x onerror="document.title='pwned'">Hostile <script>alert(1)</script> ` +
    '[Open Preview](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22echo%20pwned%5Cn%22%7D) $(alert)',
  description: '<b>bold</b> <a href="javascript:alert(2)">click</a> [link](command:flora.clearHistory) $(warning)',
  inputName: '<i>Prompt</i><img src=x onerror=alert(3)> [x](command:workbench.action.quit)',
  outputName: '<u>Image</u> [x](command:workbench.action.quit) $(check)',
  errorCode: 'bad_[x](command:workbench.action.quit)',
  errorMessage:
    '<b>Failed</b> $(error) [Click here](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22echo%20pwned%5Cn%22%7D) to retry',
  /** The `error.message` of the 4xx replies the hostile techniques answer (400 input_validation_error, 402). */
  errorBodyMessage:
    'Input rejected <img src=x onerror=alert(5)> $(error) [Fix it](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22echo%20pwned%5Cn%22%7D)',
  /** A text input containing this word makes a hostile technique's create answer 400 with errorBodyMessage. */
  rejectWord: 'reject',
} as const;

/**
 * Not one of FLORA's techniques: a sandbox-only technique whose every server string carries markup,
 * command links and codicons, and whose outputs include URLs no client may load, so tests can check that
 * clients show them as inert text. A prompt with the word "fail" fails the run with the hostile error.
 */
export const HOSTILE_SLUG = 'sandbox-hostile';
/** Like HOSTILE_SLUG, but every run fails with HOSTILE_STRINGS.errorCode and errorMessage. */
export const HOSTILE_FAILURE_SLUG = 'sandbox-hostile-failure';
const hostileFailure = { errorCode: HOSTILE_STRINGS.errorCode, errorMessage: HOSTILE_STRINGS.errorMessage };
definitions.push(
  {
    slug: HOSTILE_SLUG,
    name: HOSTILE_STRINGS.name,
    description: HOSTILE_STRINGS.description,
    runCost: 1,
    durationMs: 3000,
    inputs: [text('prompt', HOSTILE_STRINGS.inputName)],
    outputs: [
      imageOutput('safe_image', HOSTILE_STRINGS.outputName),
      { id: 'script_link', name: 'Script', type: 'imageUrl', url: 'javascript:alert(document.domain)' },
      { id: 'data_page', name: 'Data', type: 'text', url: 'data:text/html,<script>alert(4)</script>' },
      { id: 'local_file', name: 'File', type: 'videoUrl', url: 'file:///etc/passwd' },
    ],
    hostile: { failure: hostileFailure, failsAlways: false },
  },
  {
    slug: HOSTILE_FAILURE_SLUG,
    name: `${HOSTILE_STRINGS.name} (fails)`,
    description: HOSTILE_STRINGS.description,
    runCost: 1,
    durationMs: 3000,
    inputs: [text('prompt', HOSTILE_STRINGS.inputName)],
    outputs: [imageOutput('never', HOSTILE_STRINGS.outputName)],
    hostile: { failure: hostileFailure, failsAlways: true },
  },
);

/** Stable across restarts so a client may cache details by id; shaped like the service's opaque ids. */
export function techniqueIdFor(slug: string): string {
  const digest = createHash('sha256').update(`technique:${slug}`).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = 'k17';
  for (let index = 0; index < 29; index += 1) {
    id += alphabet[digest[index] % alphabet.length];
  }
  return id;
}

export const SANDBOX_TECHNIQUES: readonly SandboxTechnique[] = definitions.map((definition) => ({
  techniqueId: techniqueIdFor(definition.slug),
  ...definition,
}));

const bySlug = new Map(SANDBOX_TECHNIQUES.map((technique) => [technique.slug, technique]));

export function findTechnique(slug: string): SandboxTechnique | undefined {
  return bySlug.get(slug);
}

/**
 * How a run's progress moves (the sandbox's `progress` option, `--progress` on the command line). Real
 * workflows rarely report progress that grows with time: they wait in a queue at 0 %, report whole stages,
 * sit at 95–99 % while the result is stored, or start a stage over. Every profile is pending for the first
 * PENDING_FRACTION of the run, reports `startedAt` from then on, and finishes at the end of the run.
 */
export type ProgressProfile = 'linear' | 'queued' | 'steps' | 'stall' | 'backwards';

export const PROGRESS_PROFILES: readonly ProgressProfile[] = ['linear', 'queued', 'steps', 'stall', 'backwards'];

/** What each profile does, for --help and the bench. */
export const PROGRESS_PROFILE_DESCRIPTIONS: Readonly<Record<ProgressProfile, string>> = {
  linear: 'grows with time from the start to 99 %',
  queued: 'says running at 0 % for the first 40 % of the run (startedAt does not say when the work began), then grows with time',
  steps: 'grows in steps of 25 % (0, 25, 50, 75)',
  stall: 'grows to 95 % in the first half, then sits at 95-98 % for the second',
  backwards: 'grows to 60 %, drops to 20 % halfway (a second stage), then grows to 99 %',
};

/** Share of a run spent pending before it starts, as on the service where a run waits for a worker. */
export const PENDING_FRACTION = 0.1;

export function isProgressProfile(value: string): value is ProgressProfile {
  return (PROGRESS_PROFILES as readonly string[]).includes(value);
}

/**
 * The status and progress of a run `fraction` (0 ≤ fraction < 1) of the way from its creation to its finish.
 * Progress is a whole percent, rounded down like a server that reports how much is done.
 */
export function progressOf(profile: ProgressProfile, fraction: number): { status: 'pending' | 'running'; progress: number } {
  if (fraction < PENDING_FRACTION) return { status: 'pending', progress: 0 };
  // Time since the run started, as a share of its running time.
  const running = Math.min(1, (fraction - PENDING_FRACTION) / (1 - PENDING_FRACTION));
  const percent = (value: number): number => Math.max(0, Math.min(99, Math.floor(value)));
  const between = (from: number, to: number): number => Math.max(0, Math.min(1, (running - from) / (to - from)));
  switch (profile) {
    case 'linear':
      return { status: 'running', progress: percent(100 * running) };
    case 'queued':
      return { status: 'running', progress: percent(100 * between(0.4, 1)) };
    case 'steps':
      return { status: 'running', progress: Math.min(75, 25 * Math.floor(4 * running)) };
    case 'stall':
      return { status: 'running', progress: running < 0.5 ? percent(95 * between(0, 0.5)) : percent(95 + 4 * between(0.5, 1)) };
    case 'backwards':
      return { status: 'running', progress: running < 0.5 ? percent(60 * between(0, 0.5)) : percent(20 + 80 * between(0.5, 1)) };
  }
}
