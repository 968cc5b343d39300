// Marks the controller's own SNS messages. Its subscription to the alerts topic filters on the alarm
// body (components/controller.ts), which these plain-text notices never match; the handler also
// skips any record carrying this attribute, should a notice ever reach it.
export const ORIGIN_ATTRIBUTE = "origin";
export const CONTROLLER_ORIGIN = "aviary-controller";
