// Whether a Lambda function's reserved concurrency can be set in an account. Written from the AWS
// Lambda API reference, PutFunctionConcurrency: "You can reserve concurrency for as many functions
// as you like, as long as you leave at least 100 simultaneous executions unreserved for functions
// that aren't configured with a per-function limit" (GetAccountSettings shows the account's
// ConcurrentExecutions quota). New accounts often start with a quota of 10, where any reservation
// fails the deploy (InvalidParameterValueException ... UnreservedConcurrentExecution below its
// minimum value), so Aviary reserves none and serialises decisions with its Redis lock.
export const MIN_UNRESERVED_CONCURRENCY = 100;

/** True if reserving `reservation` more executions (on top of `alreadyReserved`) leaves 100 unreserved. */
export function reservationFits(accountQuota: number, reservation: number, alreadyReserved = 0): boolean {
  if (reservation <= 0) return true;
  return accountQuota - alreadyReserved - reservation >= MIN_UNRESERVED_CONCURRENCY;
}
