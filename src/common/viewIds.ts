// The views and the webview panel type the extension contributes; package.json must declare the same ids.
export const ViewId = {
  container: 'flora',
  techniques: 'flora.techniques',
  addedTechniques: 'flora.addedTechniques',
  runs: 'flora.runs',
} as const;

export const PREVIEW_VIEW_TYPE = 'flora.preview';
