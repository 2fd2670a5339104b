// The fixture workspace (a tiny web project) that host tests, UI journeys and `npm start` open. Tests
// always get a fresh copy, so whatever an extension writes into it never leaks into the next run.
import * as fs from 'fs';
import { fixtureWorkspace } from './paths';

/** Copies the fixture workspace to `destination` (created, must not exist yet) and returns it. */
export function copyFixtureWorkspace(destination: string): string {
  fs.cpSync(fixtureWorkspace, destination, { recursive: true, errorOnExist: true, force: false });
  return destination;
}
