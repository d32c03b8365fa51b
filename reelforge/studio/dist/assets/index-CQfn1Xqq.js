import{a as d,j as e,c as W}from"./client-BbmPAhWg.js";import{c as K}from"./client-wkOhMJXj.js";const H=["UNAUTHENTICATED","FORBIDDEN","NOT_FOUND","BAD_USER_INPUT","CONFLICT","RATE_LIMITED","BUDGET_EXCEEDED","PAYLOAD_TOO_LARGE","UNSUPPORTED_MEDIA_TYPE","SERVICE_UNAVAILABLE","INTERNAL_SERVER_ERROR"];function Q(s){return typeof s=="string"&&H.includes(s)}class y extends Error{name="ReelforgeError";code;extensions;path;status;constructor(t,o,r={}){super(o,r.cause===void 0?void 0:{cause:r.cause}),this.code=t,this.extensions=r.extensions??{},this.path=r.path,this.status=r.status}get retryAfter(){const t=this.extensions.retryAfter;return typeof t=="number"?t:void 0}static fromGraphQL(t){const o=t.extensions?.code;return new y(Q(o)?o:"INTERNAL_SERVER_ERROR",t.message,{extensions:t.extensions??{},...t.path?{path:t.path}:{}})}}function D(s){if(s instanceof y)return s;if(s instanceof Error&&s.name==="AbortError")return new y("ABORTED","the request was aborted",{cause:s});const t=s instanceof Error?s.message:String(s);return new y("NETWORK_ERROR",t,{cause:s})}class A extends String{__apiType;value;__meta__;constructor(t,o){super(t),this.value=t,this.__meta__=o}toString(){return this.value}}new A(`
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  url
}
    `,{fragmentName:"AssetFields"});new A(`
    fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  url
}`,{fragmentName:"SceneFields"});new A(`
    fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  url
}`,{fragmentName:"ExportFields"});new A(`
    fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}`,{fragmentName:"JobFields"});const Y=new A(`
    mutation CreateJob($input: CreateJobInput!) {
  createJob(input: $input) {
    ...JobFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),X=new A(`
    mutation UploadAsset($file: Upload!) {
  uploadAsset(file: $file) {
    ...AssetFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  url
}`),Z=new A(`
    mutation RefineScene($jobId: ID!, $sceneIndex: Int!, $input: RefineSceneInput!) {
  refineScene(jobId: $jobId, sceneIndex: $sceneIndex, input: $input) {
    ...JobFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),ee=new A(`
    mutation ApproveStoryboard($jobId: ID!) {
  approveStoryboard(jobId: $jobId) {
    ...JobFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),te=new A(`
    mutation RenderVideo($jobId: ID!) {
  renderVideo(jobId: $jobId) {
    ...JobFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),se=new A(`
    mutation ExportVideo($jobId: ID!, $input: ExportVideoInput!) {
  exportVideo(jobId: $jobId, input: $input) {
    ...ExportFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  url
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}`),re=new A(`
    mutation CancelJob($jobId: ID!) {
  cancelJob(jobId: $jobId) {
    ...JobFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),oe=new A(`
    mutation RetryJob($jobId: ID!) {
  retryJob(jobId: $jobId) {
    ...JobFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),q=new A(`
    query Job($id: ID!) {
  job(id: $id) {
    ...JobFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),ne=new A(`
    query Jobs($first: Int!, $after: String, $status: JobStatus) {
  jobs(first: $first, after: $after, status: $status) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      cursor
      node {
        id
        status
        stage
        progress
        brief
        aspectRatio
        sceneCount
        actualCost
        estimatedCost
        createdAt
        thumbnail {
          id
          url
        }
      }
    }
  }
}
    `),ae=new A(`
    query Viewer {
  viewer {
    clientId
    userId
    spendToday
    dailyBudget
    budgetRemaining
  }
}
    `);new A(`
    query Models {
  models {
    kind
    provider
    model
    estimatedCost
  }
}
    `);const ie=new A(`
    subscription JobProgress($jobId: ID!) {
  jobProgress(jobId: $jobId) {
    jobId
    event
    status
    stage
    progress
    sceneIndex
    message
    actualCost
    estimatedCost
    updatedAt
    job {
      ...JobFields
    }
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),de=["COMPLETED","FAILED","CANCELED"],z=s=>s!=null&&de.includes(s);function B(){return globalThis.location?.href}class le{url;wsUrl;tokenSource;fetchImpl;options;ws=null;socketState="idle";everConnected=!1;constructor(t){this.options=t;const o=new URL(t.url,B());this.url=o.toString();const r=new URL(t.wsUrl??this.url,B());r.protocol==="http:"&&(r.protocol="ws:"),r.protocol==="https:"&&(r.protocol="wss:"),this.wsUrl=r.toString(),this.tokenSource=t.token;const a=t.fetch??globalThis.fetch;this.fetchImpl=(...l)=>a(...l)}get token(){const t=this.tokenSource,o=typeof t=="function"?t():t;return o||null}resolveUrl(t){return new URL(t,this.url).toString()}headers(t={}){const o=this.token;return{...o?{Authorization:`Bearer ${o}`}:{},...t}}async request(t,o,r={}){try{const a=await this.fetchImpl(this.url,{method:"POST",headers:this.headers({"Content-Type":"application/json",Accept:"application/json"}),body:JSON.stringify({query:t.toString(),variables:o}),...r.signal?{signal:r.signal}:{}});return await L(a)}catch(a){return{ok:!1,error:D(a)}}}async execute(t,o,r={}){const a=await this.request(t,o,r);if(!a.ok)throw a.error;return a.data}subscribe(t,o,r){return this.socket().subscribe({query:t.toString(),variables:o},{next:l=>{l.errors?.length?r.error?.(y.fromGraphQL(l.errors[0])):l.data&&r.next(l.data)},error:l=>r.error?.(ce(l)),complete:()=>r.complete?.()})}setSocketState(t){t!==this.socketState&&(this.socketState=t,this.options.onSocketState?.(t))}socket(){if(this.ws)return this.ws;const t=this.options.webSocketImpl??globalThis.WebSocket;if(!t)throw new y("SOCKET_CLOSED","no WebSocket implementation available");return this.ws=K({url:this.wsUrl,webSocketImpl:t,lazy:!0,lazyCloseTimeout:1e3,keepAlive:1e4,retryAttempts:this.options.retryAttempts??8,retryWait:async o=>{const r=Math.min(500*2**o,8e3)+Math.random()*500;await new Promise(a=>setTimeout(a,r))},shouldRetry:o=>{const r=o?.code;return r===void 0||!(r>=4400&&r<=4499)},connectionParams:()=>{const o=this.token;return o?{Authorization:`Bearer ${o}`}:{}},on:{connecting:()=>this.setSocketState(this.everConnected?"reconnecting":"connecting"),connected:()=>{this.everConnected=!0,this.setSocketState("connected")},closed:()=>this.setSocketState("closed")}}),this.ws}close(){const t=this.ws;this.ws=null,this.everConnected=!1,t?.dispose(),this.setSocketState("idle")}async job(t){return(await this.execute(q,{id:t})).job}async jobs(t){return(await this.execute(ne,t)).jobs}async viewer(){return(await this.execute(ae,{})).viewer}async createJob(t){return(await this.execute(Y,{input:t})).createJob}async refineScene(t,o,r){return(await this.execute(Z,{jobId:t,sceneIndex:o,input:r})).refineScene}async approveStoryboard(t){return(await this.execute(ee,{jobId:t})).approveStoryboard}async renderVideo(t){return(await this.execute(te,{jobId:t})).renderVideo}async exportVideo(t,o){return(await this.execute(se,{jobId:t,input:o})).exportVideo}async cancelJob(t){return(await this.execute(re,{jobId:t})).cancelJob}async retryJob(t){return(await this.execute(oe,{jobId:t})).retryJob}jobProgress(t,o){return this.subscribe(ie,{jobId:t},{next:r=>o.next(r.jobProgress),...o.error?{error:o.error}:{},...o.complete?{complete:o.complete}:{}})}async upload(t,o={}){const r=new FormData;r.append("operations",JSON.stringify({query:X.toString(),variables:{file:null}})),r.append("map",JSON.stringify({0:["variables.file"]}));const a=t.name??"upload";r.append("0",t,a);const l=this.headers({"apollo-require-preflight":"true"}),n=typeof globalThis.XMLHttpRequest=="function";let p;if(o.onProgress&&n)p=await ue(this.url,r,l,t.size,o);else try{const i=await this.fetchImpl(this.url,{method:"POST",headers:l,body:r,...o.signal?{signal:o.signal}:{}});p=await L(i),p.ok&&o.onProgress?.(t.size,t.size)}catch(i){p={ok:!1,error:D(i)}}if(!p.ok)throw p.error;return p.data.uploadAsset}}function ce(s){if(Array.isArray(s)&&s.length>0)return y.fromGraphQL(s[0]);const t=s;if(t&&typeof t.code=="number"){const o=t.reason??"";return t.code===4403||t.code===4401||/UNAUTHENTICATED/.test(o)?new y("UNAUTHENTICATED",o||"the socket was refused"):new y("SOCKET_CLOSED",`socket closed (${t.code}) ${o}`.trim())}return new y("SOCKET_CLOSED",s instanceof Error?s.message:"socket error",{cause:s})}async function L(s){let t;try{t=await s.json()}catch(o){return{ok:!1,error:new y("BAD_RESPONSE",`HTTP ${s.status}: not JSON`,{status:s.status,cause:o})}}return G(t,s.status)}function G(s,t){const o=s;if(o.errors?.length)return{ok:!1,error:y.fromGraphQL(o.errors[0])};if(o.error&&typeof o.error=="object"){const r=o.error;return{ok:!1,error:y.fromGraphQL({message:String(r.message??""),extensions:r})}}return t>=400||o.data==null?{ok:!1,error:new y("BAD_RESPONSE",`HTTP ${t} without data`,{status:t})}:{ok:!0,data:o.data}}function ue(s,t,o,r,a){return new Promise(l=>{const n=new XMLHttpRequest;n.open("POST",s);for(const[p,i]of Object.entries(o))n.setRequestHeader(p,i);n.upload.onprogress=p=>{a.onProgress?.(p.loaded,p.lengthComputable?p.total:r)},n.onload=()=>{try{l(G(JSON.parse(n.responseText),n.status))}catch(p){l({ok:!1,error:new y("BAD_RESPONSE",`HTTP ${n.status}: not JSON`,{status:n.status,cause:p})})}},n.onerror=()=>l({ok:!1,error:new y("NETWORK_ERROR","upload failed")}),n.onabort=()=>l({ok:!1,error:new y("ABORTED","upload aborted")}),a.signal?.addEventListener("abort",()=>n.abort()),n.send(t)})}const pe=s=>s?.exports.some(t=>t.status==="QUEUED"||t.status==="PROCESSING")??!1;function U(s){return s!==null&&(!z(s.status)||pe(s))}function me(s){const{client:t,pollInterval:o=1e3}=s,[r,a]=d.useState(null),[l,n]=d.useState(null),[p,i]=d.useState("idle"),[S,u]=d.useState([]),[I,F]=d.useState(0),[w,b]=d.useState(0),c=d.useRef(!1),f=d.useRef(null);d.useEffect(()=>(c.current=!0,()=>{c.current=!1}),[]);const j=d.useCallback(m=>{if(!c.current)return;const g=f.current;m&&g&&m.id===g.id&&m.updatedAt<g.updatedAt||(f.current=m,a(m))},[]),h=r?.id??null,_=U(r);d.useEffect(()=>{if(!h||!_){i("idle");return}let m=!1,g=null,v=null;const N=async()=>{if(m)return;const x=await t.request(q,{id:h});if(!m){if(x.ok){if(j(x.data.job),!U(x.data.job)){i("idle");return}}else if(x.error.code!=="NETWORK_ERROR"){n(x.error),i("idle");return}v=setTimeout(()=>{N()},o)}},E=()=>{m||(i("polling"),N())},T=f.current;if(T&&z(T.status))E();else try{i("socket"),g=t.jobProgress(h,{next:x=>{m||j(x.job)},error:x=>{m||(x.code==="SOCKET_CLOSED"||x.code==="NETWORK_ERROR"?E():(n(x),i("idle")))},complete:()=>{m||i("idle")}})}catch{E()}return()=>{m=!0,g?.(),v&&clearTimeout(v)}},[t,h,_,w,o,j]);const C=d.useCallback(async(m,g)=>{c.current&&(n(null),F(v=>v+1));try{const v=await m();return c.current&&g?.(v),v}catch(v){return c.current&&n(D(v)),null}finally{c.current&&F(v=>v-1)}},[]),k=()=>{const m=f.current?.id;if(!m)throw new y("BAD_USER_INPUT","no job yet: create or load one first");return m},R=d.useCallback(m=>{j(m),c.current&&b(g=>g+1)},[j]),{jobId:P}=s,$=d.useMemo(()=>({create:m=>C(()=>t.createJob(m),R),load:m=>C(()=>t.job(m),R),upload:async m=>{const g=Math.random().toString(36).slice(2),v=m.name??"upload",N=E=>{c.current&&u(T=>T.map(x=>x.id===g?{...x,...E}:x))};return c.current&&u(E=>[...E,{id:g,name:v,sent:0,total:m.size,asset:null,error:null}]),C(()=>t.upload(m,{onProgress:(E,T)=>N({sent:E,total:T})}).catch(E=>{throw N({error:D(E)}),E}),E=>{c.current&&u(T=>T.map(x=>x.id===g?{...x,asset:E,sent:x.total}:x))})},refineScene:(m,g)=>C(()=>t.refineScene(k(),m,g),R),approve:()=>C(()=>t.approveStoryboard(k()),R),render:()=>C(()=>t.renderVideo(k()),R),cancel:()=>C(()=>t.cancelJob(k()),R),retry:()=>C(()=>t.retryJob(k()),R),exportVideo:m=>C(async()=>{const g=k();return{created:await t.exportVideo(g,{targets:m}),job:await t.job(g)}},({job:g})=>R(g)).then(g=>g?.created??null),reset:()=>{f.current=null,a(null),n(null),u([])},clearError:()=>n(null)}),[t,C,R]);return d.useEffect(()=>{P&&f.current?.id!==P&&$.load(P)},[P,$]),{job:r,scenes:r?.scenes??[],status:r?.status??null,stage:r?.stage??null,progress:r?.progress??0,cost:{estimated:r?.estimatedCost??null,actual:r?.actualCost??0},error:l,exports:r?.exports??[],live:p,uploads:S,busy:I>0,...$}}function M(s){return s==null?"—":`$${s.toFixed(s<1?3:2)}`}function J(s){return s<1024?`${s} B`:s<1024*1024?`${(s/1024).toFixed(0)} KB`:`${(s/1024/1024).toFixed(1)} MB`}const he="image/jpeg,image/png,video/mp4,video/quicktime";function ge({uploads:s,onFile:t,disabled:o}){const r=d.useId(),a=d.useRef(null),[l,n]=d.useState(!1),p=i=>{for(const S of Array.from(i??[]))t(S)};return e.jsxs("div",{className:"uploads",children:[e.jsx("div",{className:`drop${l?" over":""}${o?" disabled":""}`,"data-testid":"dropzone",role:"button",tabIndex:o?-1:0,"aria-disabled":o,"aria-describedby":`${r}-hint`,onClick:()=>!o&&a.current?.click(),onKeyDown:i=>{!o&&(i.key==="Enter"||i.key===" ")&&(i.preventDefault(),a.current?.click())},onDragOver:i=>{i.preventDefault(),o||n(!0)},onDragLeave:()=>n(!1),onDrop:i=>{i.preventDefault(),n(!1),o||p(i.dataTransfer.files)},children:"Drop product shots or clips here, or press to choose files"}),e.jsx("p",{id:`${r}-hint`,className:"muted",children:"jpg, png, mp4 or mov, up to 50 MB each; checked by content."}),e.jsx("input",{ref:a,type:"file",accept:he,multiple:!0,hidden:!0,"data-testid":"upload-input",onChange:i=>{p(i.target.files),i.target.value=""}}),s.length?e.jsx("ul",{className:"upload-list","aria-label":"Uploads",children:s.map(i=>e.jsxs("li",{children:[e.jsx("span",{className:"name",children:i.name}),e.jsx("progress",{max:i.total||1,value:i.sent,"aria-label":`Upload of ${i.name}`}),e.jsx("span",{className:"muted",children:i.error?`${i.error.code}`:i.asset?"ready":`${J(i.sent)} / ${J(i.total)}`})]},i.id))}):null]})}const fe=[{value:"LANDSCAPE_16_9",label:"16:9 landscape"},{value:"PORTRAIT_9_16",label:"9:16 vertical"},{value:"SQUARE_1_1",label:"1:1 square"},{value:"PORTRAIT_4_5",label:"4:5 portrait"}];function be({disabled:s,uploads:t,onUpload:o,onCreate:r}){const a=d.useId(),[l,n]=d.useState(""),[p,i]=d.useState("LANDSCAPE_16_9"),[S,u]=d.useState(3),[I,F]=d.useState(9),[w,b]=d.useState(""),[c,f]=d.useState(!0),j=t.filter(h=>h.asset).map(h=>h.asset.id);return e.jsxs("form",{className:"card","aria-labelledby":`${a}-title`,onSubmit:h=>{h.preventDefault(),r({brief:l.trim(),aspectRatio:p,sceneCount:S,targetDuration:I,...w.trim()?{style:w.trim()}:{},...c&&j.length?{assetIds:j}:{}})},children:[e.jsx("h2",{id:`${a}-title`,children:"Brief"}),e.jsx("label",{htmlFor:`${a}-brief`,children:"What is the ad about?"}),e.jsx("textarea",{id:`${a}-brief`,"data-testid":"brief-input",required:!0,minLength:3,maxLength:2e3,rows:4,value:l,onChange:h=>n(h.target.value),placeholder:"Cold brew coffee. Smooth and bold. Try it today."}),e.jsxs("div",{className:"grid2",children:[e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${a}-aspect`,children:"Aspect ratio"}),e.jsx("select",{id:`${a}-aspect`,"data-testid":"aspect-input",value:p,onChange:h=>i(h.target.value),children:fe.map(h=>e.jsx("option",{value:h.value,children:h.label},h.value))})]}),e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${a}-scenes`,children:"Scenes"}),e.jsx("input",{id:`${a}-scenes`,"data-testid":"scene-count-input",type:"number",min:1,max:12,value:S,onChange:h=>u(Number(h.target.value))})]}),e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${a}-duration`,children:"Duration (s)"}),e.jsx("input",{id:`${a}-duration`,"data-testid":"duration-input",type:"number",min:2,max:120,step:1,value:I,onChange:h=>F(Number(h.target.value))})]}),e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${a}-style`,children:"Style"}),e.jsx("input",{id:`${a}-style`,"data-testid":"style-input",value:w,onChange:h=>b(h.target.value),placeholder:"warm, cinematic"})]})]}),e.jsx(ge,{uploads:t,onFile:o,disabled:s}),j.length?e.jsxs("label",{className:"check",children:[e.jsx("input",{type:"checkbox",checked:c,onChange:h=>f(h.target.checked)})," Use my"," ",j.length," upload",j.length>1?"s":""," for the first scenes"]}):null,e.jsx("button",{type:"submit","data-testid":"create-job",disabled:s||l.trim().length<3,children:"Create storyboard"})]})}function xe({error:s,onDismiss:t}){return s?e.jsxs("div",{className:"card error",role:"alert","data-testid":"error","data-code":s.code,children:[e.jsx("strong",{children:s.code}),": ",s.message,e.jsx("button",{type:"button",className:"link",onClick:t,"aria-label":"Dismiss the error",children:"Dismiss"})]}):null}const ye=[{testid:"export-gif",label:"GIF (480p)",targets:[{aspectRatio:"SQUARE_1_1",resolution:"R480P",container:"GIF"}]},{testid:"export-stories",label:"9:16 stories (MP4)",targets:[{aspectRatio:"PORTRAIT_9_16",container:"MP4"}]},{testid:"export-square",label:"1:1 feed (MP4)",targets:[{aspectRatio:"SQUARE_1_1",container:"MP4"}]},{testid:"export-webm",label:"16:9 WebM",targets:[{aspectRatio:"LANDSCAPE_16_9",container:"WEBM"}]}];function Ae({exports:s,busy:t,onExport:o}){return e.jsxs("div",{className:"card",children:[e.jsx("h2",{children:"Exports"}),e.jsx("div",{className:"actions",children:ye.map(r=>e.jsx("button",{type:"button","data-testid":r.testid,disabled:t,onClick:()=>o(r.targets),children:r.label},r.testid))}),s.length?e.jsx("ul",{className:"exports","aria-live":"polite",children:s.map(r=>e.jsxs("li",{"data-testid":"export-row","data-status":r.status,"data-container":r.container,children:[e.jsxs("span",{children:[r.container," · ",r.aspectRatio.replace(/^[A-Z]+_/,"").replace("_",":")," · ",r.resolution.slice(1)," · ",r.fit.toLowerCase()]}),r.status==="COMPLETED"&&r.asset?e.jsxs("a",{href:r.asset.url,download:`reelforge-${r.id.slice(0,8)}.${r.container.toLowerCase()}`,"data-testid":`download-${r.container.toLowerCase()}`,children:["Download (",J(r.asset.sizeBytes),")"]}):r.status==="FAILED"?e.jsxs("span",{className:"warn",children:["failed: ",r.error]}):e.jsxs("span",{className:"muted",children:[r.status.toLowerCase()," ",r.progress,"%"]})]},r.id))}):e.jsx("p",{className:"muted",children:"Other sizes and formats of the finished video."})]})}const Se=10;function je({client:s,version:t,currentId:o,onOpen:r}){const[a,l]=d.useState([]),[n,p]=d.useState(null),[i,S]=d.useState(!1),[u,I]=d.useState(0),[F,w]=d.useState(null),b=d.useCallback(async c=>{try{return await s.jobs({first:Se,after:c})}catch(f){return w(D(f)),null}},[s]);return d.useEffect(()=>{let c=!0;return b(null).then(f=>{!c||!f||(w(null),l(f.edges.map(j=>j.node)),p(f.pageInfo.endCursor??null),S(f.pageInfo.hasNextPage),I(f.totalCount))}),()=>{c=!1}},[b,t]),e.jsxs("nav",{className:"card","aria-label":"Past jobs",children:[e.jsxs("h2",{children:["Past jobs ",e.jsxs("span",{className:"muted",children:["(",u,")"]})]}),F?e.jsxs("p",{className:"warn","data-testid":"error",children:[F.code,": ",F.message]}):null,e.jsx("ul",{className:"jobs","data-testid":"job-list",children:a.map(c=>e.jsx("li",{children:e.jsxs("button",{type:"button",className:`link${c.id===o?" current":""}`,"aria-current":c.id===o?"true":void 0,onClick:()=>r(c.id),children:[c.thumbnail?e.jsx("img",{src:c.thumbnail.url,alt:"",width:48,height:27}):null,e.jsx("span",{className:"job-brief",children:c.brief}),e.jsx("span",{className:"muted",children:c.status.toLowerCase()})]})},c.id))}),i?e.jsx("button",{type:"button",className:"secondary","data-testid":"jobs-more",onClick:()=>{b(n).then(c=>{c&&(l(f=>[...f,...c.edges.map(j=>j.node)]),p(c.pageInfo.endCursor??null),S(c.pageInfo.hasNextPage))})},children:"Load more"}):null]})}function ve({scenes:s,editable:t,busy:o,onRefine:r}){if(!s.length)return null;const a=s.reduce((l,n)=>l+n.duration,0);return e.jsxs("div",{className:"card",children:[e.jsxs("h2",{children:["Storyboard ",e.jsxs("span",{className:"muted",children:["(",s.length," scenes, ",a.toFixed(1)," s)"]})]}),e.jsx("ol",{className:"scenes",children:s.map(l=>e.jsx(Ee,{scene:l,editable:t,busy:o,onRefine:r},l.index))})]})}function Ee({scene:s,editable:t,busy:o,onRefine:r}){const a=d.useId(),[l,n]=d.useState(!1),[p,i]=d.useState(s.imagePrompt);return e.jsxs("li",{className:"scene","data-testid":"scene-card","data-status":s.status,"data-duration":s.duration,"aria-label":`Scene ${s.index+1}`,children:[s.image?e.jsx("img",{src:s.image.url,alt:`Still of scene ${s.index+1}: ${s.description}`,width:s.image.width??void 0,height:s.image.height??void 0}):e.jsx("div",{className:"placeholder","aria-hidden":"true"}),e.jsxs("div",{className:"scene-body",children:[e.jsxs("p",{className:"scene-title",children:[e.jsxs("strong",{children:["Scene ",s.index+1]})," · ",s.duration.toFixed(1)," s ·"," ",e.jsx("span",{className:`status s-${s.status}`,children:s.status.replace(/_/g," ")})]}),e.jsx("p",{children:s.description}),t?l?e.jsxs("form",{onSubmit:S=>{S.preventDefault(),r(s.index,{imagePrompt:p}),n(!1)},children:[e.jsx("label",{htmlFor:`${a}-prompt`,children:"New image prompt"}),e.jsx("textarea",{id:`${a}-prompt`,"data-testid":"refine-prompt",rows:3,value:p,onChange:S=>i(S.target.value)}),e.jsxs("div",{className:"actions",children:[e.jsx("button",{type:"submit","data-testid":"refine-submit",disabled:o||!p.trim(),children:"Regenerate still"}),e.jsx("button",{type:"button",className:"secondary",onClick:()=>n(!1),children:"Cancel"})]})]}):e.jsx("button",{type:"button",className:"secondary","data-testid":"refine",onClick:()=>n(!0),disabled:o,children:"Refine scene"}):null]})]})}function Fe({token:s,onSave:t}){const[o,r]=d.useState(s),a=d.useId();return e.jsxs("form",{className:"card",onSubmit:l=>{l.preventDefault(),t(o.trim().replace(/^Bearer\s+/i,""))},children:[e.jsx("h2",{children:"API token"}),e.jsx("label",{htmlFor:a,children:"Bearer token (JWT)"}),e.jsx("input",{id:a,"data-testid":"token-input",type:"password",autoComplete:"off",spellCheck:!1,value:o,onChange:l=>r(l.target.value),placeholder:"eyJhbGciOi…","aria-describedby":`${a}-hint`}),e.jsxs("p",{id:`${a}-hint`,className:"muted",children:["In development, ",e.jsx("code",{children:"reelforge serve"})," prints a ready token when it starts (the",e.jsx("code",{children:" Token:"})," line); ",e.jsx("code",{children:"reelforge token --client … --user …"})," mints another. It is kept for this tab only."]}),e.jsx("button",{type:"submit","data-testid":"token-save",children:s?"Use this token":"Save token"}),s?e.jsx("span",{className:"ok",children:" Token set."}):null]})}const O="reelforge.token";function we(){try{return window.sessionStorage.getItem(O)??""}catch{return""}}function Ce(s){try{s?window.sessionStorage.setItem(O,s):window.sessionStorage.removeItem(O)}catch{}}function Re(){const[s,t]=d.useState(we),[o,r]=d.useState("idle"),a=d.useRef(s);a.current=s;const l=d.useMemo(()=>new le({url:"/graphql",token:()=>a.current,onSocketState:r}),[s]),n=me({client:l}),[p,i]=d.useState(0),S=b=>{Ce(b),t(b),n.reset()},u=n.job,I=u?.status==="STORYBOARD_COMPLETE"&&!u.approved,F=u?.status==="STORYBOARD_COMPLETE"&&u.approved,w=u!==null&&!["COMPLETED","FAILED","CANCELED","STORYBOARD_COMPLETE"].includes(u.status);return e.jsxs("div",{className:"app",children:[e.jsxs("header",{className:"top",children:[e.jsx("h1",{children:"Reelforge Studio"}),e.jsx("span",{className:"socket","aria-live":"polite",children:n.live==="polling"?"live updates: polling":o==="reconnecting"?"reconnecting…":null})]}),e.jsxs("main",{className:"layout",children:[e.jsxs("section",{className:"column","aria-label":"Set-up",children:[e.jsx(Fe,{token:s,onSave:S}),e.jsx(be,{disabled:!s||n.busy,uploads:n.uploads,onUpload:b=>{n.upload(b)},onCreate:async b=>{await n.create(b)&&i(f=>f+1)}}),s?e.jsx(je,{client:l,version:`${p}:${u?.id??""}:${u?.status??""}`,currentId:u?.id??null,onOpen:b=>{n.load(b)}}):null]}),e.jsxs("section",{className:"column wide","aria-label":"Job",children:[e.jsx(xe,{error:n.error,onDismiss:n.clearError}),u?e.jsxs(e.Fragment,{children:[e.jsxs("div",{className:"card job-head",children:[e.jsxs("h2",{children:["Job ",e.jsx("code",{children:u.id.slice(0,8)})," — ",u.status.toLowerCase().replace("_"," ")]}),e.jsx("p",{className:"brief",children:u.brief}),e.jsx("div",{className:"bar",role:"progressbar","data-testid":"progress","aria-label":"Job progress","aria-valuemin":0,"aria-valuemax":100,"aria-valuenow":n.progress,"aria-valuetext":`${n.progress}% ${n.stage??""}`.trim(),children:e.jsx("div",{className:"fill",style:{width:`${n.progress}%`}})}),e.jsxs("p",{className:"muted",children:[n.stage?`Stage: ${n.stage} · `:"",n.progress,"%"]}),e.jsxs("dl",{className:"cost",children:[e.jsxs("div",{children:[e.jsx("dt",{children:"Estimated cost"}),e.jsx("dd",{"data-testid":"cost-estimated",children:M(n.cost.estimated)})]}),e.jsxs("div",{children:[e.jsx("dt",{children:"Paid so far"}),e.jsx("dd",{"data-testid":"cost-actual",children:M(n.cost.actual)})]})]}),e.jsxs("div",{className:"actions",children:[e.jsx("button",{type:"button","data-testid":"approve",disabled:!I||n.busy,onClick:()=>{n.approve()},children:u.approved?"Approved":"Approve storyboard"}),e.jsx("button",{type:"button","data-testid":"render",disabled:!F||n.busy,onClick:()=>{n.render()},children:"Render video"}),e.jsx("button",{type:"button","data-testid":"cancel",disabled:!w||n.busy,onClick:()=>{n.cancel()},children:"Cancel"}),u.status==="FAILED"?e.jsx("button",{type:"button","data-testid":"retry",disabled:n.busy,onClick:()=>{n.retry()},children:"Retry"}):null]}),u.errorMessage?e.jsx("p",{className:"warn",children:u.errorMessage}):null]}),e.jsx(ve,{scenes:n.scenes,editable:u.status==="STORYBOARD_COMPLETE"||u.status==="COMPLETED"||u.status==="FAILED",busy:n.busy,onRefine:(b,c)=>{n.refineScene(b,c)}}),u.video?e.jsxs("div",{className:"card",children:[e.jsx("h2",{children:"Video"}),e.jsx("video",{"data-testid":"result-video",controls:!0,preload:"auto",src:u.video.url,poster:u.thumbnail?.url,"aria-label":"The rendered ad"}),e.jsx("p",{children:e.jsx("a",{href:u.video.url,download:!0,children:"Download MP4"})})]}):null,u.status==="COMPLETED"?e.jsx(Ae,{exports:n.exports,busy:n.busy,onExport:b=>{n.exportVideo(b)}}):null]}):e.jsxs("div",{className:"card empty",children:[e.jsx("h2",{children:"No job open"}),e.jsx("p",{children:"Write a brief and create a job, or open one of your past jobs."})]})]})]})]})}const V=document.getElementById("root");V&&W.createRoot(V).render(e.jsx(d.StrictMode,{children:e.jsx(Re,{})}));
