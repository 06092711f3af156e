import { InternalError } from '@strata/errors';
import { isMap, isScalar, isSeq, parseAllDocuments, type Document, type Node } from 'yaml';
import { readImageDocument, type ImageReference } from './image.js';
import { readMeta, type MetaResult } from './meta.js';
import type { ConfigProblem, ParseResult } from './problems.js';
import { checkReferences } from './references.js';
import { type ConfigTemplateOptions, type RenderedTemplate } from './template.js';
import { renderConfigTextWithMap } from './text.js';
import type { ResolvedConfig, ResolvedImage, SourcePosition } from './types.js';
import { DocContext, Positions, Reporter, describeNode, scalarText } from './walk.js';

export interface ParseConfigOptions {
  /** The config file path, used in problems and `ResolvedConfig.file` (never read). */
  path: string;
  /**
   * Allow `contextAddFiles` (untracked working-tree files in a Dockerfile build context), which
   * giterminism forbids by default.
   * @default false
   */
  allowContextAddFiles?: boolean;
  /**
   * The platform images are built for; `platform` entries naming any other are rejected.
   * @default "linux/amd64"
   */
  hostPlatform?: string;
  /**
   * What a templated config (text with `{{`) is rendered with: files for `.Files`, partials, env and
   * giterminism's allowed variables, `.Commit`. Problems found in the rendered YAML carry
   * `rendered` positions and point at the template line when it is known.
   * @default {} (no files, no partials, no env, no commit)
   */
  template?: ConfigTemplateOptions;
}

export const DEFAULT_HOST_PLATFORM = 'linux/amd64';

/** Loose image names: anything printable without spaces (werf itself does not restrict them further). */
const IMAGE_NAME_PATTERN = /^[^\s\p{Cc}]+$/u;
const IMAGE_NAME_MAX_LENGTH = 255;

/**
 * Parses and validates werf.yaml text. Pure and synchronous. Returns the complete resolved config,
 * or every problem found (with file, line and column in `text`); never a partial config.
 * Does not throw on any input (only the abort reason of `template.signal`); an {@link InternalError} means a bug in this package.
 *
 * When a document has YAML syntax errors, the other documents are still validated one by one, but
 * the checks that need the whole file (meta present, references, cycles) are skipped, since the
 * broken document may hold what they look for.
 */
export function parseConfig(text: string, options: ParseConfigOptions): ParseResult {
  try {
    return parseUnchecked(text, options);
  } catch (error) {
    const signal = options.template?.signal;
    if (signal?.aborted) throw signal.reason;
    if (error instanceof RangeError) {
      // Deeply nested input can exhaust the stack inside the YAML library or our walker.
      return {
        ok: false,
        problems: [
          {
            code: 'YAML_SYNTAX',
            severity: 'error',
            message: 'the document is nested too deeply to be parsed',
            file: options.path,
            line: 1,
            column: 1,
            path: '',
            pathSegments: [],
            hint: 'werf.yaml is never nested this deeply; check for runaway brackets.',
          },
        ],
      };
    }
    throw new InternalError(`parsing ${options.path} failed unexpectedly`, { cause: error });
  }
}

interface ImageDoc {
  dc: DocContext;
  root: Node;
  names: (string | null)[];
  isArtifact: boolean;
  source: SourcePosition;
  /** Offset of the `image:`/`artifact:` key. */
  keyOffset: number;
}

function parseUnchecked(text: string, options: ParseConfigOptions): ParseResult {
  const file = options.path;
  const hostPlatform = options.hostPlatform ?? DEFAULT_HOST_PLATFORM;
  const rendered = renderConfigTextWithMap(text, file, options.template ?? {});
  if (!rendered.ok) return { ok: false, problems: rendered.problems };
  const body = rendered.text;
  const template = rendered.rendered;

  const docs = parseAllDocuments(body, { uniqueKeys: false, merge: true, version: '1.1', prettyErrors: false });
  const reporter = new Reporter(file, new Positions(body));
  const documents: Document.Parsed[] = Array.isArray(docs) ? docs : [];

  let syntaxErrors = false;
  documents.forEach((doc, index) => {
    for (const error of doc.errors) {
      syntaxErrors = true;
      reporter.add('YAML_SYNTAX', firstLine(error.message), { offset: error.pos[0], path: `document ${index + 1}`, pathSegments: [], document: index });
    }
    for (const warning of doc.warnings) {
      reporter.add('YAML_SYNTAX', firstLine(warning.message), { offset: warning.pos[0], path: `document ${index + 1}`, pathSegments: [], document: index }, { severity: 'warning' });
    }
  });

  let meta: { result: MetaResult; dc: DocContext } | undefined;
  const imageDocs: ImageDoc[] = [];
  documents.forEach((doc, index) => {
    if (doc.errors.length > 0) return;
    const dc = new DocContext(reporter, doc, index, `document ${index + 1}`);
    const root = dc.deref(doc.contents, []);
    if (root === undefined || (isScalar(root) && root.value === null)) return; // empty or comment-only
    if (!isMap(root)) {
      dc.report('UNKNOWN_DOCUMENT', `a werf.yaml document must be a mapping, got ${describeNode(root)}`, root, [], {
        hint: 'Each document is either the meta document (project, configVersion) or an image (image: NAME, …).',
      });
      return;
    }
    const keys = topLevelKeys(root);
    const imageKey = keys.get('image');
    const artifactKey = keys.get('artifact');
    if (imageKey || artifactKey) {
      if (imageKey && artifactKey) {
        dc.label = `image ${describeNames(imageKey.value)}`;
        dc.report('CONFLICTING_KEYS', 'a document is either an image (`image:`) or a legacy artifact (`artifact:`), not both', artifactKey.key, ['artifact'], {
          hint: 'Split it into two documents, or keep only `image:` (with `final: false` for an artifact).',
        });
        return;
      }
      const isArtifact = !imageKey;
      const entry = (imageKey ?? artifactKey) as { key: Node; value: unknown };
      dc.label = `${isArtifact ? 'artifact' : 'image'} ${describeNames(entry.value)}`;
      const names = readNames(dc, entry, isArtifact ? 'artifact' : 'image');
      if (names === undefined) return;
      const offset = entry.key.range?.[0] ?? 0;
      const position = reporter.positions.at(offset);
      imageDocs.push({ dc, root, names, isArtifact, keyOffset: offset, source: { document: index, line: position.line, column: position.column } });
      return;
    }
    if (keys.has('configVersion') || keys.has('project')) {
      dc.label = 'meta';
      if (meta) {
        const first = meta.dc.doc.range[0];
        const firstLine = reporter.positions.at(firstDocOffset(meta.dc.doc) ?? first).line;
        const thisLine = reporter.positions.at(firstDocOffset(doc) ?? doc.range[0]).line;
        dc.report('META_DUPLICATE', `a second meta document (line ${thisLine}); the first one starts on line ${firstLine}`, firstDocNode(doc), [], {
          hint: 'Merge the two: a werf.yaml has exactly one document with project and configVersion.',
          related: [{ at: firstDocOffset(meta.dc.doc) ?? first, message: 'the first meta document' }],
        });
        return;
      }
      meta = { result: readMeta(dc, root, hostPlatform), dc };
      return;
    }
    const first = root.items[0];
    dc.report('UNKNOWN_DOCUMENT', 'this document is neither the meta document (configVersion, project) nor an image (image: NAME)', dc.deref(first?.key, []) ?? root, [], {
      hint: 'Add `image: NAME` (or `artifact: NAME`) to describe an image, or move these keys into the meta document.',
    });
  });

  // Names across documents: duplicates, and the nameless image only alone.
  const allNames = new Set<string>();
  const firstSeen = new Map<string, ImageDoc>();
  const total = imageDocs.reduce((sum, d) => sum + d.names.length, 0);
  for (const imageDoc of imageDocs) {
    const unique: (string | null)[] = [];
    for (const name of imageDoc.names) {
      if (name === null) {
        if (total > 1) {
          imageDoc.dc.report('NAMELESS_IMAGE_NOT_ALONE', 'the nameless image (`image: ~`) is only allowed when the config has a single image', imageDoc.keyOffset, [imageDoc.isArtifact ? 'artifact' : 'image'], {
            hint: 'Give every image a name.',
          });
        }
        unique.push(null);
        continue;
      }
      const previous = firstSeen.get(name);
      if (previous) {
        const where = previous === imageDoc ? 'earlier in this list' : `in document ${previous.dc.index + 1} (line ${previous.source.line})`;
        imageDoc.dc.report('DUPLICATE_IMAGE_NAME', `image name "${name}" is already used ${where}; this is document ${imageDoc.dc.index + 1} (line ${imageDoc.source.line})`, imageDoc.keyOffset, [imageDoc.isArtifact ? 'artifact' : 'image'], {
          hint: 'Image and artifact names must be unique in a config.',
          related: [{ at: previous.keyOffset, message: `"${name}" first defined here` }],
        });
        continue;
      }
      firstSeen.set(name, imageDoc);
      allNames.add(name);
      unique.push(name);
    }
    imageDoc.names = unique;
  }

  const images: ResolvedImage[] = [];
  const references = new Map<string, ImageReference[]>();
  for (const imageDoc of imageDocs) {
    const result = readImageDocument({
      ...imageDoc,
      allNames,
      allowContextAddFiles: options.allowContextAddFiles ?? false,
      hostPlatform,
    });
    if (!result) continue;
    images.push(...result.images);
    for (const [key, refs] of result.references) references.set(key, refs);
  }

  if (!syntaxErrors) {
    if (!meta) {
      reporter.add('META_MISSING', 'the config has no meta document (the one with project and configVersion)', { offset: 0, path: 'meta', pathSegments: [] }, {
        hint: 'Start werf.yaml with `project: my-project` and `configVersion: 1`, then `---` before each image.',
      });
    }
    checkReferences(
      images.map((image) => image.key),
      references,
    );
  }

  const problems = template === undefined ? sortProblems(reporter.problems) : sortProblems(reporter.problems).map((p) => toTemplatePosition(p, template));
  if (reporter.hasErrors() || !meta || meta.result.project === undefined || meta.result.configVersion === undefined) {
    if (!reporter.hasErrors()) throw new InternalError('config rejected without an error problem');
    return { ok: false, problems };
  }
  const config: ResolvedConfig = {
    file,
    project: meta.result.project,
    configVersion: 1,
    build: meta.result.build,
    cleanup: meta.result.cleanup,
    gitWorktree: meta.result.gitWorktree,
    images,
  };
  if (meta.result.deploy) config.deploy = meta.result.deploy;
  return { ok: true, config, warnings: problems };
}

/** Re-locates a problem found in rendered YAML at its template line, keeping the rendered position. */
function toTemplatePosition(problem: ConfigProblem, template: RenderedTemplate): ConfigProblem {
  const origin = template.locate(problem.line, problem.column);
  const rendered = { line: problem.line, column: problem.column, mapped: origin !== undefined };
  const related = problem.related?.map((r) => ({ ...r, message: `${r.message} (rendered config line ${r.line})` }));
  return {
    ...problem,
    ...(origin ?? {}),
    rendered,
    ...(related === undefined ? {} : { related }),
  };
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

function topLevelKeys(root: Node): Map<string, { key: Node; value: unknown }> {
  const keys = new Map<string, { key: Node; value: unknown }>();
  if (!isMap(root)) return keys;
  for (const pair of root.items) {
    if (isScalar(pair.key) && typeof pair.key.value !== 'symbol' && pair.key.value !== null) {
      const name = scalarText(pair.key);
      if (!keys.has(name)) keys.set(name, { key: pair.key, value: pair.value });
    }
  }
  return keys;
}

function describeNames(value: unknown): string {
  if (isScalar(value)) return value.value === null ? '~' : JSON.stringify(scalarText(value));
  if (isSeq(value)) return `[${value.items.map((item) => (isScalar(item) ? JSON.stringify(scalarText(item)) : '?')).join(', ')}]`;
  return '?';
}

/** `image: NAME | [NAME…] | ~` → names (null for the nameless image), reporting invalid ones. */
function readNames(dc: DocContext, entry: { key: Node; value: unknown }, directive: 'image' | 'artifact'): (string | null)[] | undefined {
  const node = dc.deref(entry.value, [directive]);
  if (node === undefined) return undefined;
  if (isScalar(node) && node.value === null) {
    if (directive === 'artifact') {
      dc.report('INVALID_IMAGE_NAME', 'an artifact needs a name', entry.key, [directive], { hint: 'Write `artifact: NAME`.' });
      return undefined;
    }
    return [null];
  }
  const items: { node: Node | undefined; segments: (string | number)[] }[] = isSeq(node)
    ? node.items.map((item, i) => ({ node: dc.deref(item, [directive, i]), segments: [directive, i] }))
    : [{ node, segments: [directive] }];
  if (isSeq(node) && items.length === 0) {
    dc.report('INVALID_IMAGE_NAME', `"${directive}" lists no names`, node, [directive], { hint: 'Write `image: NAME` or `image: [NAME1, NAME2]`.' });
    return undefined;
  }
  const names: string[] = [];
  let ok = true;
  for (const item of items) {
    if (!isScalar(item.node) || typeof item.node.value !== 'string') {
      dc.report('INVALID_IMAGE_NAME', `an image name must be a string, got ${describeNode(item.node)}`, item.node ?? entry.key, item.segments, {
        hint: isSeq(node) ? 'The nameless image (~) cannot be part of a list.' : 'Quote the name if YAML reads it as a number or boolean.',
      });
      ok = false;
      continue;
    }
    const name = item.node.value;
    if (name === '' || name.length > IMAGE_NAME_MAX_LENGTH || !IMAGE_NAME_PATTERN.test(name)) {
      dc.report('INVALID_IMAGE_NAME', `invalid image name ${JSON.stringify(name)}: names are 1–${IMAGE_NAME_MAX_LENGTH} characters without spaces`, item.node, item.segments);
      ok = false;
      continue;
    }
    names.push(name);
  }
  return ok ? names : undefined;
}

function firstDocNode(doc: Document.Parsed): Node | undefined {
  const contents = doc.contents;
  if (isMap(contents)) {
    const first = contents.items[0]?.key;
    if (isScalar(first)) return first;
  }
  return contents ?? undefined;
}

function firstDocOffset(doc: Document.Parsed): number | undefined {
  return firstDocNode(doc)?.range?.[0];
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems
    .map((problem, order) => ({ problem, order }))
    .sort((a, b) => a.problem.line - b.problem.line || a.problem.column - b.problem.column || a.order - b.order)
    .map(({ problem }) => problem);
}
