// What tsc must refuse in a program using the generated types: each line below is an error it has to
// report (`@ts-expect-error` fails the check where none is). Were the document's schemas lost, so that
// the generated types said `any` or `unknown`, these lines would compile and the check would fail.
// Type-checked only: nothing calls it.
import createClient from "openapi-fetch";

import type { paths } from "./generated/taskgate.js";

const client = createClient<paths>({ baseUrl: "http://127.0.0.1:8000" });

export async function misuses(): Promise<void> {
  // @ts-expect-error a delay is a number of seconds
  await client.POST("/submit/process", { body: { delay: "two" } });
  // @ts-expect-error no such operation
  await client.POST("/submit/no-such-type", { body: {} });
  // @ts-expect-error the task id is a path parameter the call must give
  await client.GET("/tasks/{task_id}", {});
  const { data } = await client.GET("/tasks/{task_id}", { params: { path: { task_id: "6f1c" } } });
  if (data !== undefined) {
    // @ts-expect-error a task's status is one of the TaskState values
    const status: "finished" = data.status;
    // @ts-expect-error an answer has no field the document does not declare
    console.log(status, data.owner);
  }
}
