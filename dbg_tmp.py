import sys, numpy as np, jax
sys.path.insert(0, "tests/unfolding")
from test_omnifold import _gaussian_toy
from hepjax.unfolding import iterative_unfold, response_from_migrations
tg, tr, sim_reco, pass_sim, dg, data_reco = _gaussian_toy()
edges = np.linspace(-4, 5, 46); c = 0.5*(edges[1:]+edges[:-1])
b = lambda v: np.clip(np.digitize(v, edges) - 1, 0, len(edges) - 2)
k=len(c); mig=np.zeros((k,k)); np.add.at(mig,(b(tr),b(tg)),1.0)
nt=np.bincount(b(tg),minlength=k).astype(float); data=np.bincount(b(data_reco),minlength=k).astype(float)
ok = nt>0
r,e = response_from_migrations(mig[:,ok], nt[ok])
for it in (1,2,3,5,10):
    u=np.asarray(iterative_unfold(data, r, e, prior=nt[ok], n_iterations=it)); print(it, (u*c[ok]).sum()/u.sum())
