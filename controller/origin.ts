// Marks the controller's own SNS messages: it reports to the alerts topic it also listens to, and
// its subscription's filter policy (components/controller.ts) keeps those reports from invoking it.
export const ORIGIN_ATTRIBUTE = "origin";
export const CONTROLLER_ORIGIN = "aviary-controller";
