// The 38 techniques flora-api.md lists ("Available techniques"). There is no list endpoint, so this is
// what the Techniques view shows before the user adds slugs of their own.
export interface CatalogTechnique {
  readonly slug: string;
  readonly name: string;
  readonly description: string;
}

export const DOCUMENTED_TECHNIQUES: readonly CatalogTechnique[] = [
  { slug: 'art-directors-critique', name: "Art Director's Critique", description: 'Analyze, critique, and redesign any creative asset.' },
  { slug: 'auto-translate', name: 'Auto Translate', description: 'Translate text in images instantly' },
  { slug: 'book-drop', name: 'Book Drop', description: 'Mocks up front and back book covers' },
  { slug: 'cctv-cam', name: 'CCTV Cam', description: 'Any face, CCTV style' },
  { slug: 'character-lock', name: 'Character Lock', description: 'One character, 6 different angles' },
  { slug: 'cinematic-movie-generator', name: 'Cinematic Movie Stills', description: 'Generate film-quality scene stills' },
  { slug: 'color-mapping', name: 'Segment Mapper', description: 'Color-codes every element in your image' },
  { slug: 'color-transfer', name: 'Color Transfer', description: 'Apply color grading from any reference' },
  { slug: 'earth-zoom-out', name: 'Earth Zoom Out', description: 'Zoom out to space from any scene' },
  { slug: 'facade-swap', name: 'Facade Swap', description: 'Reskin buildings with new materials' },
  { slug: 'fit-checks', name: 'Fit Check', description: 'Extract outfits & swap onto new looks' },
  { slug: 'glam-shots', name: 'Glam Shots', description: 'Create polished makeup ads instantly' },
  { slug: 'icon-pack', name: 'Icon Pack', description: 'Generate matched icon sets from a prompt' },
  { slug: 'live-like-an-amsterdammer', name: 'Live like an Amsterdammer', description: 'Places you into everyday Amsterdam scenes' },
  { slug: 'location-scouter', name: 'Location Scout', description: 'Scouts five views from a single location' },
  { slug: 'logo-stylist', name: 'Logo Stylist', description: 'Stylize any logo with a new visual twist' },
  { slug: 'memoji-me', name: 'Memoji Me', description: 'Turn any face into a custom memoji' },
  { slug: 'moodboard-maker', name: 'Mood Board Maker', description: 'Eclectic mood board from a photo' },
  { slug: 'mugshot', name: 'Mugshot', description: 'Turn any portrait into a mugshot' },
  { slug: 'palette-pull', name: 'Palette Pull', description: 'Extract color palettes from any image' },
  { slug: 'product-animator', name: 'Product Animator', description: 'Animate your product' },
  { slug: 'product-lookbook-grid', name: 'Product Lookbook Grid', description: 'Turn products into styled grid layouts' },
  { slug: 'product-motion', name: 'Product Motion', description: 'Animate product shots in one click' },
  { slug: 'quick-reframe', name: 'Layout Resizer', description: 'Resize layouts for any aspect ratio' },
  { slug: 'relight-technique', name: 'Relighting', description: 'Relights your photo' },
  { slug: 'room-render', name: 'Room Render', description: 'Turn floor plans into realistic rooms' },
  { slug: 'seamless-transition', name: 'Seamless Transition', description: 'Animate between any two frames' },
  { slug: 'sigil', name: 'Sigil', description: 'Turns any image into an animated glyph' },
  { slug: 'sketch-to-garment', name: 'Garment Sketch', description: 'One sketch, one final garment.' },
  { slug: 'studio-blur', name: 'Studio Blur', description: 'Add pro depth-of-field blur to photos' },
  { slug: 'studio-shot', name: 'Studio Shot', description: 'Turns any product into a studio-lit shoot' },
  { slug: 'tarot-pull', name: 'Tarot Pull', description: 'Custom illustrated tarot card readings' },
  { slug: 'texture-matchers', name: 'Texture Match', description: 'Replicate textures & colors across assets' },
  {
    slug: 'turn-any-product-into-4-ad-visuals',
    name: 'Turn any product into 4 ad visuals',
    description: 'Make a full ad campaign from 1 product',
  },
  { slug: 'ugc-creation', name: 'UGC Creator', description: 'Casual, phone-shot clips of your product' },
  { slug: 'video-scene-builder', name: 'Video Scene Builder', description: 'Compose video scenes from still assets' },
  { slug: 'wireframe', name: 'Photo Wireframe', description: 'Turn any photo into a clean wireframe' },
  { slug: 'wonder-fy', name: 'Wonder(fy)', description: "Apply Wonder's cinematic style to images" },
];

export function findDocumentedTechnique(slug: string): CatalogTechnique | undefined {
  return DOCUMENTED_TECHNIQUES.find((technique) => technique.slug === slug);
}
