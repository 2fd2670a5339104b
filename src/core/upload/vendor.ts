// The third-party code of uploads, in one place: aws4fetch signs S3 requests (we send them with undici),
// and AWS's own credential chain finds the user's credentials. esbuild bundles this file on its own
// (dist/aws.js, see esbuild.mjs), required at the first upload: activation never parses it.
export { AwsV4Signer } from 'aws4fetch';
export { fromNodeProviderChain } from '@aws-sdk/credential-providers';
