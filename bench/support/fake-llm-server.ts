/**
 * Local fake LLM servers on 127.0.0.1 (random port) speaking each provider's wire format: OpenAI
 * Chat Completions (`POST …/chat/completions`, also what OpenAI-compatible servers speak) and the
 * Anthropic Messages API (`POST /v1/messages`). Each request is answered from a script of replies
 * (the last one repeats) or by a function of the request, and recorded for assertions.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeProviderLimit } from './fake-rate-limit.ts';

export type FakeDialect = 'openai' | 'anthropic';

export type FakeReply =
  /** A well-formed answer (any values: a wrong label or a bad confidence is the caller's choice). */
  | { kind: 'answer'; winner: unknown; confidence?: unknown; justification?: unknown }
  /** The answer slot holds exactly this value (an object that breaks the schema, a string…). */
  | { kind: 'raw_answer'; value: unknown }
  /** OpenAI: assistant text as is (e.g. broken JSON); Anthropic: a text block and no tool call. */
  | { kind: 'text'; text: string }
  | { kind: 'refusal' }
  /** Output cut at the token cap. */
  | { kind: 'truncated' }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Accept the request and never answer (the client's timeout must end it). */
  | { kind: 'hang' };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** The prompt text the model saw (system + user), for checks on labels and content. */
  promptText: string;
}

export interface FakeLlmServerOptions {
  dialect: FakeDialect;
  /** Replies in order; the last one repeats. Ignored when `respond` is given. */
  script?: FakeReply[];
  respond?: (request: RecordedRequest) => FakeReply;
  /** Token counts reported per answered call. */
  inputTokens?: number;
  outputTokens?: number;
  /** Model name reported in responses; defaults to the requested one. */
  model?: string;
  /**
   * The provider's rate limit: a call over it is answered 429 with `retry-after` (seconds, rounded
   * up) and not recorded as answered; each call counts `inputTokens + outputTokens` tokens.
   */
  rateLimit?: FakeProviderLimit;
}

export interface FakeLlmServer {
  /** `http://127.0.0.1:PORT` — append `/v1` for an OpenAI-style base URL. */
  origin: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export const FAKE_INPUT_TOKENS = 1200;
export const FAKE_OUTPUT_TOKENS = 40;

export function promptTextOf(body: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof body.system === 'string') parts.push(body.system);
  if (Array.isArray(body.messages)) {
    for (const message of body.messages as Array<{ content?: unknown }>) {
      if (typeof message.content === 'string') parts.push(message.content);
    }
  }
  return parts.join('\n');
}

function answerValue(reply: Extract<FakeReply, { kind: 'answer' }>): Record<string, unknown> {
  return {
    winner: reply.winner,
    confidence: reply.confidence ?? 4,
    justification: reply.justification ?? 'Clearer argument and better evidence.',
  };
}

export function openAiBody(reply: FakeReply, model: string, tokens: [number, number]): unknown {
  const message: Record<string, unknown> = { role: 'assistant', content: null, refusal: null };
  let finishReason = 'stop';
  if (reply.kind === 'answer') message.content = JSON.stringify(answerValue(reply));
  else if (reply.kind === 'raw_answer') message.content = JSON.stringify(reply.value);
  else if (reply.kind === 'text') message.content = reply.text;
  else if (reply.kind === 'refusal') message.refusal = 'I cannot help with grading this content.';
  else if (reply.kind === 'truncated') {
    message.content = '{"winner": "A", "confidence": 4, "justif';
    finishReason = 'length';
  }
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1_760_000_000,
    model,
    choices: [{ index: 0, message, finish_reason: finishReason }],
    usage: {
      prompt_tokens: tokens[0],
      completion_tokens: tokens[1],
      total_tokens: tokens[0] + tokens[1],
    },
  };
}

export function anthropicBody(reply: FakeReply, model: string, tokens: [number, number]): unknown {
  let content: unknown[] = [];
  let stopReason = 'tool_use';
  const toolUse = (input: unknown) => ({
    type: 'tool_use',
    id: 'toolu_fake',
    name: 'record_verdict',
    input,
  });
  if (reply.kind === 'answer') content = [toolUse(answerValue(reply))];
  else if (reply.kind === 'raw_answer') content = [toolUse(reply.value)];
  else if (reply.kind === 'text') {
    content = [{ type: 'text', text: reply.text }];
    stopReason = 'end_turn';
  } else if (reply.kind === 'refusal') {
    content = [];
    stopReason = 'refusal';
  } else if (reply.kind === 'truncated') {
    content = [{ type: 'text', text: 'Looking at both essays' }];
    stopReason = 'max_tokens';
  }
  return {
    id: 'msg_fake',
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    usage: { input_tokens: tokens[0], output_tokens: tokens[1] },
  };
}

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export async function startFakeLlmServer(options: FakeLlmServerOptions): Promise<FakeLlmServer> {
  const requests: RecordedRequest[] = [];
  const script = [...(options.script ?? [])];
  const tokens: [number, number] = [
    options.inputTokens ?? FAKE_INPUT_TOKENS,
    options.outputTokens ?? FAKE_OUTPUT_TOKENS,
  ];
  const expectedPath = options.dialect === 'anthropic' ? /\/v1\/messages$/ : /\/chat\/completions$/;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body,
      promptText: promptTextOf(body),
    };
    requests.push(recorded);
    if (req.method !== 'POST' || !expectedPath.test(recorded.path)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"not found"}}');
      return;
    }
    const limited = options.rateLimit?.take(tokens[0] + tokens[1], Date.now());
    if (limited && !limited.ok) {
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after': String(Math.ceil(limited.retryAfterMs / 1000)),
      });
      res.end('{"error":{"message":"rate limit exceeded","type":"rate_limit_error"}}');
      return;
    }
    const reply = options.respond
      ? options.respond(recorded)
      : script.length > 1
        ? script.shift()
        : script[0];
    if (!reply) throw new Error('fake LLM server: no reply scripted');
    if (reply.kind === 'hang') return;
    if (reply.kind === 'status') {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body ?? '{"error":{"message":"fake error"}}');
      return;
    }
    const model = options.model ?? (typeof body.model === 'string' ? body.model : 'unknown');
    const payload =
      options.dialect === 'anthropic'
        ? anthropicBody(reply, model, tokens)
        : openAiBody(reply, model, tokens);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(payload));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      // Hanging requests keep sockets open: end them so close() returns.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A body with the fake's required text: the essay marked `marker` wins whichever label it has. */
export function preferEssayContaining(marker: string): (request: RecordedRequest) => FakeReply {
  return (request) => {
    const a = /<essay_a>([\s\S]*?)<\/essay_a>/.exec(request.promptText)?.[1] ?? '';
    return { kind: 'answer', winner: a.includes(marker) ? 'A' : 'B' };
  };
}
