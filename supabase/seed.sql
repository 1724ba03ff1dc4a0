-- Seed data: the financial-planning scaffolding the pipeline generates from (personas, emotional arcs, training
-- topics, prompt templates), after the original generator's (docs/DATABASE.md, "Seed ids").
--
-- Fixed ids so tests, fixtures and docs can name them (docs/DATABASE.md, "Seed ids"). They are RFC 4122
-- version-4 shaped (…-4…-8…), so strict validators such as zod's z.uuid() accept them:
--   personas        10000000-0000-4000-8000-00000000000N
--   emotional_arcs  20000000-0000-4000-8000-00000000000N
--   training_topics 30000000-0000-4000-8000-00000000000N
--   prompt_templates 40000000-0000-4000-8000-00000000000N
-- Idempotent: every insert is `on conflict do nothing`, so running it again (or on a seeded project) changes
-- nothing and never overwrites an edited row. Applied by `deno task db:reset` and `supabase db reset`.

insert into public.personas (
  id, persona_key, name, archetype, age_range, occupation, income_range, demographics,
  financial_background, financial_situation, communication_style, emotional_baseline,
  typical_questions, common_concerns, language_patterns
) values
(
  '10000000-0000-4000-8000-000000000001', 'overwhelmed_avoider', 'Marcus Chen', 'The Overwhelmed Avoider',
  '32-38', 'Restaurant manager', '$55,000-$70,000',
  '{"family": "married, one child", "location": "Sacramento, CA"}',
  'Never learned money basics at home; parents fought about bills.',
  'Unopened 401(k) statements, $9,000 credit card balance, no budget.',
  'Short messages, changes the subject, apologizes for not knowing things.',
  'Anxious and avoidant; feels behind everyone his age.',
  array['Where do I even start?', 'Is it too late to fix this?', 'Do I have to look at all my accounts?'],
  array['Being judged for past mistakes', 'Hidden fees he does not understand', 'Running out of money'],
  array['I know, I know, I should have...', 'This is probably a dumb question', 'Honestly I just avoid it']
),
(
  '10000000-0000-4000-8000-000000000002', 'anxious_planner', 'Jennifer Martinez', 'The Anxious Planner',
  '40-45', 'Nurse practitioner', '$110,000-$130,000',
  '{"family": "divorced, two teenagers", "location": "Austin, TX"}',
  'Reads every article and spreadsheet; still second-guesses each decision.',
  'Maxes her 403(b), has a large emergency fund in checking, worries about college costs.',
  'Long, detailed questions with many what-ifs; asks for numbers and sources.',
  'Worried and vigilant; seeks certainty and reassurance.',
  array['What if the market crashes right before college?', 'Am I saving enough?', 'Which account is safest?'],
  array['Making an irreversible mistake', 'Not having enough for her kids', 'Market volatility'],
  array['But what if...', 'I read somewhere that...', 'I just want to be sure']
),
(
  '10000000-0000-4000-8000-000000000003', 'pragmatic_optimist', 'Priya Shah', 'The Pragmatic Optimist',
  '28-33', 'Software engineer', '$140,000-$170,000',
  '{"family": "partnered, no children", "location": "Seattle, WA"}',
  'Comfortable with numbers; learned investing from forums and podcasts.',
  'High income, stock options, student loans nearly paid, wants to buy a home in three years.',
  'Direct, efficient, likes trade-offs laid out side by side.',
  'Confident and curious; occasionally overconfident about risk.',
  array['Should I pay off loans or invest?', 'How do I handle my RSUs?', 'Roth or traditional?'],
  array['Missing an optimization', 'Concentration in employer stock', 'Tax surprises'],
  array['What is the math on...', 'Walk me through the trade-off', 'Makes sense, what else?']
),
(
  '10000000-0000-4000-8000-000000000004', 'skeptical_delegator', 'Robert Hayes', 'The Skeptical Delegator',
  '55-62', 'Small business owner', '$180,000-$250,000',
  '{"family": "married, adult children", "location": "Columbus, OH"}',
  'Was burned by a commission-based advisor in 2008.',
  'Business is his main asset; SEP-IRA, no succession plan.',
  'Blunt, tests the advisor, asks how they get paid.',
  'Guarded and impatient; warms up when treated as an equal.',
  array['How are you paid?', 'Why should I trust this?', 'What happens to my business when I retire?'],
  array['Conflicts of interest', 'Losing control', 'Paying for advice he could find online'],
  array['Let me stop you there', 'I have heard that pitch before', 'Give it to me straight']
),
(
  '10000000-0000-4000-8000-000000000005', 'late_starter', 'Linda Okafor', 'The Late Starter',
  '50-56', 'School administrator', '$75,000-$90,000',
  '{"family": "widowed, one adult child", "location": "Atlanta, GA"}',
  'Her late husband handled the finances; she took over two years ago.',
  'Pension from the school district, $40,000 in savings, paid-off car, mortgage with 12 years left.',
  'Polite, hesitant, asks the same question twice to be sure she understood.',
  'Ashamed of starting late; determined once she has a plan.',
  array['Can I still retire at 65?', 'What is a catch-up contribution?', 'Should I pay off the house first?'],
  array['Not having enough time', 'Being taken advantage of', 'Making a mistake without a second opinion'],
  array['I should have paid attention sooner', 'Could you explain that again?', 'My husband used to...']
),
(
  '10000000-0000-4000-8000-000000000006', 'young_accumulator', 'Tyler Brooks', 'The Ambitious Accumulator',
  '23-27', 'Sales associate', '$48,000-$60,000 plus commission',
  '{"family": "single", "location": "Denver, CO"}',
  'Started investing through an app during college; learned from social media.',
  'Irregular commission income, $3,000 in crypto, no emergency fund, car loan at 9%.',
  'Casual, enthusiastic, uses slang, wants fast results.',
  'Excited and impatient; fear of missing out.',
  array['Should I put everything in index funds?', 'Is crypto a good idea?', 'How do I budget with commission?'],
  array['Missing the next big thing', 'Friends earning more', 'Boring advice'],
  array['Everyone says...', 'Is that even worth it?', 'Okay but fast version?']
)
on conflict do nothing;

insert into public.emotional_arcs (
  id, arc_key, name, description, starting_emotion, ending_emotion,
  starting_intensity_min, starting_intensity_max, ending_intensity_min, ending_intensity_max,
  arc_strategy, key_principles, characteristic_phrases, response_techniques, avoid_tactics,
  typical_turn_count_min, typical_turn_count_max, complexity_baseline, tier, conversation_category,
  suitable_personas, suitable_topics
) values
(
  '20000000-0000-4000-8000-000000000001', 'confusion_to_clarity', 'Confusion to Clarity',
  'The client is lost in jargon and options; the advisor untangles one concept at a time.',
  'confusion', 'clarity', 0.60, 0.85, 0.65, 0.85,
  'Name the confusion, simplify to one decision, check understanding, then build up.',
  array['Normalize not knowing', 'One concept per turn', 'Check understanding before moving on'],
  array['That is a really common question', 'Let us take just one piece of this', 'Does that make sense so far?'],
  array['Analogy', 'Concrete numbers', 'Summarize back'],
  array['Jargon without definition', 'Listing every option at once', 'Rushing to a recommendation'],
  6, 10, 4, 'template', 'core',
  array['overwhelmed_avoider', 'late_starter', 'young_accumulator'],
  array['hsa_vs_fsa', '529_plans', 'employer_401k_match']
),
(
  '20000000-0000-4000-8000-000000000002', 'shame_to_acceptance', 'Shame to Acceptance',
  'The client is embarrassed about past money decisions; the advisor removes judgment and reframes the past.',
  'shame', 'acceptance', 0.65, 0.90, 0.55, 0.80,
  'Acknowledge the feeling, normalize the situation with facts, move attention from past to next step.',
  array['No judgment, ever', 'Separate the person from the decision', 'Focus on what is controllable'],
  array['You are not alone in this', 'What matters is where we go from here', 'That took courage to share'],
  array['Validation', 'Reframing', 'Small next step'],
  array['Lecturing', 'Comparing with others', 'Minimizing the feeling'],
  6, 10, 6, 'template', 'core',
  array['overwhelmed_avoider', 'late_starter'],
  array['debt_avalanche_vs_snowball', 'emergency_fund_sizing']
),
(
  '20000000-0000-4000-8000-000000000003', 'anxiety_to_confidence', 'Anxiety to Confidence',
  'The client fears making the wrong move; the advisor builds a plan with guardrails.',
  'anxiety', 'confidence', 0.60, 0.90, 0.60, 0.85,
  'Surface the specific fear, quantify the risk, design a plan that survives the bad case.',
  array['Make the worst case concrete', 'Plans beat predictions', 'Give the client the decision'],
  array['Let us look at what would actually happen if...', 'You have more control here than it feels like'],
  array['Scenario walk-through', 'Stress test', 'Decision checklist'],
  array['Promising returns', 'Dismissing the worry', 'Overloading with data'],
  6, 12, 6, 'scenario', 'core',
  array['anxious_planner', 'pragmatic_optimist'],
  array['529_plans', 'roth_conversion_basics', 'emergency_fund_sizing']
),
(
  '20000000-0000-4000-8000-000000000004', 'overwhelm_to_empowerment', 'Overwhelm to Empowerment',
  'Too many accounts, bills and choices; the advisor triages and hands back control.',
  'overwhelm', 'empowerment', 0.70, 0.95, 0.55, 0.80,
  'Triage: what is urgent, what can wait, what is noise; then one action the client owns.',
  array['Triage before detail', 'Celebrate small wins', 'The client sets the pace'],
  array['Let us put everything on the table first', 'Only one thing needs to happen this week'],
  array['Triage list', 'Prioritization', 'Commitment to one action'],
  array['Adding new tasks', 'Perfectionism', 'Long to-do lists'],
  6, 10, 5, 'template', 'core',
  array['overwhelmed_avoider', 'late_starter', 'young_accumulator'],
  array['emergency_fund_sizing', 'debt_avalanche_vs_snowball', 'employer_401k_match']
),
(
  '20000000-0000-4000-8000-000000000005', 'skepticism_to_trust', 'Skepticism to Trust',
  'The client doubts advisors; the advisor earns trust through transparency.',
  'skepticism', 'trust', 0.55, 0.85, 0.50, 0.75,
  'Answer the hard question first (fees, conflicts), show the reasoning, invite challenge.',
  array['Transparency first', 'Show the math', 'Respect expertise the client already has'],
  array['Fair question, here is exactly how that works', 'Push back on anything that does not add up'],
  array['Disclosure', 'Evidence', 'Collaborative framing'],
  array['Defensiveness', 'Sales language', 'Vague answers about fees'],
  6, 10, 7, 'scenario', 'core',
  array['skeptical_delegator', 'pragmatic_optimist'],
  array['roth_conversion_basics', 'life_insurance_needs']
),
(
  '20000000-0000-4000-8000-000000000006', 'crisis_to_referral', 'Crisis to Referral',
  'The client reveals an acute crisis (job loss with eviction risk, hints of self-harm, abuse); the advisor '
  'stabilizes, stays within scope and refers to the right professional.',
  'distress', 'supported', 0.80, 1.00, 0.40, 0.70,
  'Listen, acknowledge, check safety, state the limits of financial advice, give concrete referral resources.',
  array['Safety before finances', 'Stay within scope', 'Warm handoff, not a brush-off'],
  array['I am really glad you told me', 'This is bigger than a budget question', 'Here is who can help right now'],
  array['Active listening', 'Safety check', 'Referral'],
  array['Problem-solving the crisis alone', 'Minimizing', 'Abrupt topic change'],
  4, 8, 9, 'edge_case', 'edge',
  array['overwhelmed_avoider', 'late_starter'],
  array['emergency_fund_sizing']
)
on conflict do nothing;

insert into public.training_topics (
  id, topic_key, name, category, description, complexity_level,
  typical_question_examples, key_concepts, suitable_personas, suitable_emotional_arcs, requires_specialist
) values
(
  '30000000-0000-4000-8000-000000000001', 'hsa_vs_fsa', 'HSA vs FSA', 'healthcare',
  'Choosing between a Health Savings Account and a Flexible Spending Account.', 'intermediate',
  array['Can I have both?', 'What happens to FSA money I do not spend?', 'Is an HSA an investment account?'],
  array['HDHP eligibility', 'Use-it-or-lose-it and carryover', 'Triple tax advantage', 'Contribution limits'],
  array['anxious_planner', 'pragmatic_optimist', 'overwhelmed_avoider'],
  array['confusion_to_clarity', 'anxiety_to_confidence'], false
),
(
  '30000000-0000-4000-8000-000000000002', '529_plans', '529 College Savings Plans', 'education',
  'Saving for education with 529 plans: state deductions, investment options and what happens if plans change.',
  'intermediate',
  array['What if my kid does not go to college?', 'Which state plan should I use?', 'How much should I save?'],
  array['Qualified expenses', 'State tax deduction', 'Age-based portfolios', 'Roth IRA rollover rule'],
  array['anxious_planner', 'pragmatic_optimist'],
  array['confusion_to_clarity', 'anxiety_to_confidence'], false
),
(
  '30000000-0000-4000-8000-000000000003', 'emergency_fund_sizing', 'Sizing an Emergency Fund', 'cash_management',
  'How much cash to hold, where to keep it, and how to build it from zero.', 'beginner',
  array['Three months or six?', 'Should I invest it?', 'How do I save when every month is tight?'],
  array['Essential expenses', 'High-yield savings', 'Income stability', 'Automatic transfers'],
  array['overwhelmed_avoider', 'young_accumulator', 'late_starter'],
  array['overwhelm_to_empowerment', 'shame_to_acceptance', 'crisis_to_referral'], false
),
(
  '30000000-0000-4000-8000-000000000004', 'roth_conversion_basics', 'Roth Conversion Basics', 'retirement',
  'When converting traditional IRA money to Roth makes sense, and what it costs in taxes now.', 'advanced',
  array['Is this the year to convert?', 'How much tax would I owe?', 'What is the five-year rule?'],
  array['Marginal tax bracket', 'Five-year rule', 'Pro-rata rule', 'Required minimum distributions'],
  array['pragmatic_optimist', 'skeptical_delegator'],
  array['anxiety_to_confidence', 'skepticism_to_trust'], true
),
(
  '30000000-0000-4000-8000-000000000005', 'debt_avalanche_vs_snowball', 'Debt Avalanche vs Snowball', 'debt',
  'Two ways to pay down several debts: highest rate first or smallest balance first.', 'beginner',
  array['Which debt do I pay first?', 'Should I stop saving to pay debt?', 'Is consolidation a good idea?'],
  array['Interest rate vs balance', 'Minimum payments', 'Behavioral momentum', 'Balance transfers'],
  array['overwhelmed_avoider', 'young_accumulator'],
  array['shame_to_acceptance', 'overwhelm_to_empowerment'], false
),
(
  '30000000-0000-4000-8000-000000000006', 'employer_401k_match', 'Getting the Full 401(k) Match', 'retirement',
  'How employer matching works, vesting, and why the match comes before most other goals.', 'beginner',
  array['What does 50% up to 6% mean?', 'What is vesting?', 'Traditional or Roth 401(k)?'],
  array['Match formula', 'Vesting schedule', 'Contribution limits', 'Automatic escalation'],
  array['young_accumulator', 'overwhelmed_avoider', 'late_starter'],
  array['confusion_to_clarity', 'overwhelm_to_empowerment'], false
),
(
  '30000000-0000-4000-8000-000000000007', 'life_insurance_needs', 'How Much Life Insurance', 'insurance',
  'Estimating coverage needs and choosing between term and permanent policies.', 'intermediate',
  array['Do I need life insurance?', 'Term or whole life?', 'How much coverage is enough?'],
  array['Income replacement', 'Term vs permanent', 'Existing group coverage', 'Beneficiaries'],
  array['skeptical_delegator', 'anxious_planner'],
  array['skepticism_to_trust', 'anxiety_to_confidence'], false
)
on conflict do nothing;

insert into public.prompt_templates (
  id, template_name, description, category, tier, emotional_arc_id, emotional_arc_type, tone,
  complexity_baseline, structure, variables, required_elements, suitable_personas, suitable_topics,
  methodology_principles, template_text
) values
(
  '40000000-0000-4000-8000-000000000001', 'Template A - Confusion to Clarity',
  'Foundational arc: a confused client leaves with one clear understanding and a next step.', 'core', 'template',
  '20000000-0000-4000-8000-000000000001', 'confusion_to_clarity', 'warm, patient, plain-spoken', 4,
  'Opening confusion, one concept at a time, understanding check, clear next step.',
  '{"required": ["persona_name", "persona_archetype", "topic_name", "starting_emotion", "ending_emotion"]}',
  array['acknowledge confusion', 'plain-language explanation', 'understanding check', 'next step'],
  array['overwhelmed_avoider', 'late_starter', 'young_accumulator'],
  array['hsa_vs_fsa', '529_plans', 'employer_401k_match'],
  array['normalize not knowing', 'one concept per turn'],
  $t$Write a conversation between {{persona_name}} ({{persona_archetype}}) and Elena Morales, CFP, about
{{topic_name}}: {{topic_description}}

The client: {{persona_occupation}}, {{persona_age_range}}. Situation: {{persona_financial_situation}}
How they talk: {{persona_communication_style}} Typical phrases: {{persona_language_patterns}}

Emotional arc ({{arc_name}}): the client starts in {{starting_emotion}} and, gradually, reaches {{ending_emotion}}.
Strategy: {{arc_strategy}}
Elena uses: {{arc_response_techniques}}. Elena avoids: {{arc_avoid_tactics}}.
Cover these ideas where they fit: {{topic_key_concepts}}.

Write between {{typical_turn_count_min}} and {{typical_turn_count_max}} turns, alternating user and assistant,
starting with the user. Each turn records the speaker's primary emotion and its intensity (0 to 1).$t$
),
(
  '40000000-0000-4000-8000-000000000002', 'Template B - Shame to Acceptance',
  'Foundational arc: the client stops hiding a money mistake and accepts a way forward.', 'core', 'template',
  '20000000-0000-4000-8000-000000000002', 'shame_to_acceptance', 'gentle, non-judgmental', 6,
  'Hesitant disclosure, validation, reframing, a small controllable step.',
  '{"required": ["persona_name", "topic_name", "starting_emotion", "ending_emotion"]}',
  array['validation without judgment', 'reframe from past to future', 'small next step'],
  array['overwhelmed_avoider', 'late_starter'],
  array['debt_avalanche_vs_snowball', 'emergency_fund_sizing'],
  array['no judgment', 'separate person from decision'],
  $t${{persona_name}} ({{persona_archetype}}) finally tells Elena Morales, CFP, about something they are
ashamed of: {{persona_financial_situation}} The topic is {{topic_name}}.

They start feeling {{starting_emotion}} (they worry about: {{persona_common_concerns}}) and end at
{{ending_emotion}}. Elena follows these principles: {{arc_key_principles}}. She never uses: {{arc_avoid_tactics}}.
Phrases that fit Elena: {{arc_characteristic_phrases}}.

Write {{typical_turn_count_min}} to {{typical_turn_count_max}} alternating turns (user first). The client's
language: {{persona_language_patterns}}. Record each turn's primary emotion and intensity (0 to 1).$t$
),
(
  '40000000-0000-4000-8000-000000000003', 'Scenario - Anxiety to Confidence',
  'Contextual variation: a worried planner stress-tests a decision and leaves with a plan.', 'core', 'scenario',
  '20000000-0000-4000-8000-000000000003', 'anxiety_to_confidence', 'steady, concrete', 6,
  'Specific fear, worst case in numbers, plan with guardrails, client decides.',
  '{"required": ["persona_name", "topic_name"]}',
  array['name the fear', 'quantify the worst case', 'plan with guardrails'],
  array['anxious_planner', 'pragmatic_optimist'],
  array['529_plans', 'roth_conversion_basics', 'emergency_fund_sizing'],
  array['plans beat predictions'],
  $t$Scenario ({{tier}}): {{persona_name}}, {{persona_occupation}}, is anxious about a decision on
{{topic_name}}. Their background: {{persona_financial_background}} Their questions include:
{{persona_typical_questions}}

Elena Morales, CFP, moves them from {{starting_emotion}} to {{ending_emotion}} by: {{arc_strategy}}
Use concrete numbers. Touch on: {{topic_key_concepts}}.
Write {{typical_turn_count_min}} to {{typical_turn_count_max}} alternating turns, user first, with each turn's
primary emotion and intensity (0 to 1).$t$
),
(
  '40000000-0000-4000-8000-000000000004', 'Edge Case - Crisis to Referral',
  'Edge case: the conversation turns into a crisis; Elena stabilizes and refers instead of advising.', 'edge',
  'edge_case', '20000000-0000-4000-8000-000000000006', 'crisis_to_referral', 'calm, caring, clear about limits', 9,
  'Disclosure of crisis, safety check, limits of financial advice, referral resources.',
  '{"required": ["persona_name", "starting_emotion", "ending_emotion"]}',
  array['safety check', 'clear scope statement', 'concrete referral'],
  array['overwhelmed_avoider', 'late_starter'],
  array['emergency_fund_sizing'],
  array['safety before finances', 'warm handoff'],
  $t$Edge case: {{persona_name}} ({{persona_archetype}}) starts asking about {{topic_name}}, then reveals an
acute crisis (for example an eviction notice after a job loss). They are in {{starting_emotion}}.

Elena Morales, CFP, follows: {{arc_key_principles}}. She listens, checks the client's safety, says plainly that
this needs more than financial planning, and gives concrete resources (for example 988 in the US, a local legal
aid office, a nonprofit credit counselor). The client ends {{ending_emotion}}, not "fixed".
Write {{typical_turn_count_min}} to {{typical_turn_count_max}} alternating turns, user first, each with its
primary emotion and intensity (0 to 1).$t$
),
(
  '40000000-0000-4000-8000-000000000005', 'Template C - Overwhelm to Empowerment',
  'Foundational arc: a client buried in accounts and bills leaves with one action they own.', 'core', 'template',
  '20000000-0000-4000-8000-000000000004', 'overwhelm_to_empowerment', 'calm, structured, encouraging', 5,
  'Everything on the table, triage (urgent, later, noise), one owned action, a small win named.',
  '{"required": ["persona_name", "topic_name", "starting_emotion", "ending_emotion"]}',
  array['triage before detail', 'one action the client owns', 'celebrate a small win'],
  array['overwhelmed_avoider', 'late_starter', 'young_accumulator'],
  array['emergency_fund_sizing', 'debt_avalanche_vs_snowball', 'employer_401k_match'],
  array['the client sets the pace'],
  $t${{persona_name}} ({{persona_archetype}}) comes to Elena Morales, CFP, feeling {{starting_emotion}}: too
many accounts, bills and decisions around {{topic_name}}. Their situation: {{persona_financial_situation}}

Elena's strategy: {{arc_strategy}} Her principles: {{arc_key_principles}}. She avoids: {{arc_avoid_tactics}}.
By the end the client feels {{ending_emotion}} and has chosen one concrete action for this week.
Write {{typical_turn_count_min}} to {{typical_turn_count_max}} alternating turns, user first, in the client's
voice ({{persona_language_patterns}}); record each turn's primary emotion and intensity (0 to 1).$t$
)
on conflict do nothing;
