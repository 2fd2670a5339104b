// The upload client's public face: what src/services loads (lazily, with require) at the first upload.
export { describeLocalFile, MAX_UPLOAD_BYTES, normalisePrefix, objectKeyFor, sniffMediaType, type SniffedMedia } from './files';
export { IMAGEKIT_UPLOAD_ORIGIN, normaliseFolder, uploadToImageKit, type ImageKitUploadOptions } from './imagekit';
export {
  credentialsError,
  DEFAULT_MULTIPART_THRESHOLD_BYTES,
  DEFAULT_PART_SIZE_BYTES,
  describeTarget,
  MAX_PRESIGNED_SECONDS,
  objectUrl,
  presignedGetUrl,
  uploadToS3,
  type S3UploadOptions,
} from './s3';
export type * from './types';
