// A program written against the types openapi-typescript generates from the api's live OpenAPI document
// (src/generated/taskgate.ts): it submits a job and follows it to its end, shows a refused one, then
// submits another and cancels it. One JSON object a line on stdout, for the test to read.
//
//   TASKGATE_URL=http://127.0.0.1:8000 node build/client.js
import createClient from "openapi-fetch";

import type { components, paths } from "./generated/taskgate.js";

type TaskView = components["schemas"]["TaskView"];
type TaskState = components["schemas"]["TaskState"];

const FINISHED: readonly TaskState[] = ["completed", "failed", "cancelled"];
/** Seconds each GET waits for the task to end (?wait=, at most TASK_TIMEOUT). */
const WAIT = 5;

const client = createClient<paths>({ baseUrl: process.env.TASKGATE_URL ?? "http://127.0.0.1:8000" });

function say(event: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ event, ...fields }));
}

async function submit(delay: number): Promise<string> {
  const { data, error, response } = await client.POST("/submit/process", { body: { delay } });
  if (data === undefined) {
    throw new Error(`POST /submit/process answered ${response.status}: ${JSON.stringify(error)}`);
  }
  say("submitted", { task_id: data.task_id, status: data.status, location: response.headers.get("Location") });
  return data.task_id;
}

async function follow(taskId: string): Promise<TaskView> {
  for (;;) {
    const { data, error, response } = await client.GET("/tasks/{task_id}", {
      params: { path: { task_id: taskId }, query: { wait: WAIT } },
    });
    if (data === undefined) {
      throw new Error(`GET /tasks/${taskId} answered ${response.status}: ${JSON.stringify(error)}`);
    }
    if (FINISHED.includes(data.status)) {
      return data;
    }
    say("waiting", { task_id: taskId, status: data.status, percent: data.progress?.percent ?? null });
  }
}

async function refused(delay: number): Promise<void> {
  const { data, error, response } = await client.POST("/submit/process", { body: { delay } });
  if (data !== undefined || response.status !== 422) {
    throw new Error(`a delay of ${delay} was not refused: ${response.status}`);
  }
  // The 422's body is typed too: the list of what is wrong.
  const detail = error.detail;
  const first = Array.isArray(detail) ? detail[0] : undefined;
  say("refused", { status: response.status, loc: first?.loc ?? null, msg: first?.msg ?? null });
}

async function cancel(taskId: string): Promise<void> {
  const { data, response } = await client.DELETE("/tasks/{task_id}", { params: { path: { task_id: taskId } } });
  say("cancel", { task_id: taskId, status: response.status, task_status: data?.status ?? null });
}

function finished(view: TaskView): void {
  // The result is the task type's result model: the process type's has the seed's message and the delay.
  const result = view.result != null && "delay" in view.result ? view.result : null;
  say("finished", {
    task_id: view.task_id,
    task: view.task ?? null,
    status: view.status,
    message: result?.result ?? null,
    delay: result?.delay ?? null,
  });
}

finished(await follow(await submit(1)));
await refused(-1);
const slow = await submit(30);
await cancel(slow);
finished(await follow(slow));
