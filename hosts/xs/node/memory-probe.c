/*
 * Memory and compute probes for the XS worker that measures the firmware (built by memory-worker.ts, which
 * includes this file twice: into xsnapPlatform.c, which sees the machine's internals, with
 * mxMemoryProbeInternals defined; and into xsnap-worker.c, which sees the public XS API; and hooks
 * xsMemory.c to count into the tallies below).
 *
 * The stock worker reports only live slots. This one adds two globals:
 *   memory()                   live slots and chunk bytes, their peaks, garbage collections, and the tallies:
 *                              slots, chunk bytes, string-literal copies and computrons spent since start,
 *                              per account;
 *   memoryAccount(a[, crank])  charges what follows to account a (0 firmware, 1 host binding) and returns
 *                              the previous account; `crank` says a new crank began (its meter restarted).
 * Tallies count allocations whether or not a collection later frees them, so "bytes allocated per reading"
 * does not depend on when the collector runs. memoryAccount allocates nothing, so switching is free.
 */
#ifdef mxMemoryProbeInternals

/* Until told otherwise, everything is the host's: the worker's own allocations before a crank runs included. */
int gxProbeAccount = 1;
/* Set while a string literal is being copied out of the byte code. */
int gxProbeLiteral = 0;
double gxProbeSlots[2];
double gxProbeChunks[2];
double gxProbeLiterals[2];
double gxProbeCollections;

/* sizeof(txSlot), live slots, live chunk bytes, peak slots, peak chunk bytes. */
void fxProbeHeap(txMachine* the, double* figures)
{
	figures[0] = sizeof(txSlot);
	figures[1] = the->currentHeapCount;
	figures[2] = the->currentChunksSize;
	figures[3] = the->peakHeapCount;
	figures[4] = the->peakChunksSize;
}

#else

#define mxProbeFirmware 0
#define mxProbeHost 1

extern int gxProbeAccount;
extern double gxProbeSlots[2], gxProbeChunks[2], gxProbeLiterals[2], gxProbeCollections;
extern void fxProbeHeap(xsMachine* the, double* figures);

static double gxProbeComputrons[2];
static xsUnsignedValue gxProbeMeterMark;

static void fxProbeCharge(xsMachine* the)
{
	xsUnsignedValue now = xsGetCurrentMeter(the);
	if (now >= gxProbeMeterMark)
		gxProbeComputrons[gxProbeAccount] += now - gxProbeMeterMark;
	gxProbeMeterMark = now;
}

static void fx_memoryAccount(xsMachine* the)
{
	int account = xsToInteger(xsArg(0)) ? mxProbeHost : mxProbeFirmware;
	if ((xsToInteger(xsArgc) > 1) && xsTest(xsArg(1)))
		gxProbeMeterMark = 0;
	fxProbeCharge(the);
	xsResult = xsInteger(gxProbeAccount);
	gxProbeAccount = account;
}

static void fxProbeTally(xsMachine* the, int account, xsIdentifier name)
{
	xsVar(1) = xsNewObject();
	xsSet(xsVar(1), xsID("slots"), xsNumber(gxProbeSlots[account]));
	xsSet(xsVar(1), xsID("chunks"), xsNumber(gxProbeChunks[account]));
	xsSet(xsVar(1), xsID("literals"), xsNumber(gxProbeLiterals[account]));
	xsSet(xsVar(1), xsID("computrons"), xsNumber(gxProbeComputrons[account]));
	xsSet(xsVar(0), name, xsVar(1));
}

static void fx_memory(xsMachine* the)
{
	int account = gxProbeAccount;
	double heap[5];
	fxProbeCharge(the);
	gxProbeAccount = mxProbeHost;
	fxProbeHeap(the, heap);
	xsVars(2);
	xsVar(0) = xsNewObject();
	xsSet(xsVar(0), xsID("slotBytes"), xsNumber(heap[0]));
	xsSet(xsVar(0), xsID("slots"), xsNumber(heap[1]));
	xsSet(xsVar(0), xsID("chunks"), xsNumber(heap[2]));
	xsSet(xsVar(0), xsID("peakSlots"), xsNumber(heap[3]));
	xsSet(xsVar(0), xsID("peakChunks"), xsNumber(heap[4]));
	xsSet(xsVar(0), xsID("collections"), xsNumber(gxProbeCollections));
	fxProbeTally(the, mxProbeFirmware, xsID("firmware"));
	fxProbeTally(the, mxProbeHost, xsID("host"));
	xsResult = xsVar(0);
	fxProbeCharge(the);
	gxProbeAccount = account;
}

static void fxInstallMemoryProbe(xsMachine* the)
{
	xsResult = xsNewHostFunction(fx_memory, 0);
	xsDefine(xsGlobal, xsID("memory"), xsResult, xsDontEnum);
	xsResult = xsNewHostFunction(fx_memoryAccount, 2);
	xsDefine(xsGlobal, xsID("memoryAccount"), xsResult, xsDontEnum);
}

#endif
